"""The SQLite backend (stdlib ``sqlite3``): the default, a file beside the monitor."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nuserve.monitoring.store.base import Store


def open_sqlite(path: str, url: str = "") -> Store:
    """A store in the SQLite file ``path`` (created with its folder; ``:memory:`` works).

    WAL journaling lets a second process (another dashboard) read while the monitor writes.
    """
    if path != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(Path(path).expanduser()) if path != ":memory:" else path,
                                 check_same_thread=False, timeout=10.0)  # fmt: skip
    if path != ":memory:":
        connection.execute("PRAGMA journal_mode=WAL")
    return Store(connection, "?", url or f"sqlite://{path}")
