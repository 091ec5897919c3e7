"""The monitoring store: ``open_store(url)`` gives a ``Store`` on SQLite or PostgreSQL.

- ``sqlite:///abs/path.db``, ``sqlite://rel/path.db``, ``sqlite://:memory:``, or a plain path:
  SQLite (stdlib, the default: nothing to set up);
- ``postgresql://user[:password]@host:port/database`` (or ``postgres://``): PostgreSQL.
"""

from __future__ import annotations

from nuserve.errors import ConfigError
from nuserve.monitoring.store.base import EndpointInfo, Store

__all__ = ["DEFAULT_STORE", "EndpointInfo", "Store", "open_store"]

DEFAULT_STORE = "sqlite://.nuserve/monitor.db"


def open_store(url: str = DEFAULT_STORE, password: str | None = None) -> Store:
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "sqlite", url
    scheme = scheme.lower()
    if scheme == "sqlite":
        from nuserve.monitoring.store.sqlite import open_sqlite  # noqa: PLC0415

        if not rest:
            raise ConfigError(f"SQLite store URL {url!r} has no path: sqlite:///var/monitor.db")
        return open_sqlite(rest, url)
    if scheme in ("postgresql", "postgres"):
        from nuserve.monitoring.store.postgres import open_postgres  # noqa: PLC0415

        return open_postgres(url, password)
    raise ConfigError(
        f"store URL {url!r} has unknown scheme {scheme!r}; use sqlite:///path.db "
        "or postgresql://user@host:port/database"
    )
