"""The PostgreSQL backend, through pg8000 (pure Python; ``pip install 'nuserve[monitor-pg]'``).

``postgresql://user[:password]@host[:port]/database``; the password may also come from
the ``password`` argument (the entry point reads ``PGPASSWORD`` once, not this module).
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import unquote, urlsplit

from nuserve.errors import ConfigError
from nuserve.monitoring.store.base import Store


def open_postgres(url: str, password: str | None = None, timeout: float = 10.0) -> Store:
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    if not parts.hostname or not database:
        raise ConfigError(
            f"PostgreSQL store URL {url!r} needs a host and a database: "
            "postgresql://user@127.0.0.1:5432/monitoring"
        )
    try:  # imported by name: pg8000 ships no type hints, and only this backend needs it
        dbapi: Any = importlib.import_module("pg8000.dbapi")
    except ImportError as exc:
        raise ConfigError(
            f"store {url!r} needs the pg8000 driver; pip install 'nuserve[monitor-pg]'"
        ) from exc
    try:
        connection = dbapi.connect(
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else password,
            host=parts.hostname,
            port=parts.port or 5432,
            database=database,
            timeout=timeout,
        )
    except (dbapi.Error, OSError) as exc:
        safe = url.replace(f":{parts.password}@", ":***@") if parts.password else url
        raise ConfigError(f"cannot connect to the store {safe}: {exc}") from exc
    return Store(connection, "%s", url)
