"""The monitoring tables, in SQL that SQLite and PostgreSQL both accept as it is.

Times are seconds since the epoch (``DOUBLE PRECISION``), nested values are JSON text, and
every table has a natural primary key, so writes are upserts (``ON CONFLICT ... DO UPDATE``)
and replaying a stream rewrites rows instead of duplicating them.
"""

from __future__ import annotations

TABLES = (
    """CREATE TABLE IF NOT EXISTS endpoints (
        endpoint_id TEXT PRIMARY KEY,
        function_uri TEXT NOT NULL,
        model TEXT NOT NULL,
        version TEXT NOT NULL,
        model_class TEXT NOT NULL,
        labels TEXT NOT NULL,
        reference TEXT NOT NULL,
        first_seen DOUBLE PRECISION NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        general_drift DOUBLE PRECISION,
        error_rate DOUBLE PRECISION,
        drifted TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS windows (
        endpoint_id TEXT NOT NULL,
        window_s DOUBLE PRECISION NOT NULL,
        start_time DOUBLE PRECISION NOT NULL,
        requests BIGINT NOT NULL,
        errors BIGINT NOT NULL,
        error_rate DOUBLE PRECISION NOT NULL,
        p50 DOUBLE PRECISION,
        p90 DOUBLE PRECISION,
        p99 DOUBLE PRECISION,
        row_count BIGINT NOT NULL,
        predictions TEXT NOT NULL,
        general_drift DOUBLE PRECISION,
        tvd_mean DOUBLE PRECISION,
        hellinger_mean DOUBLE PRECISION,
        kl_mean DOUBLE PRECISION,
        general_status TEXT NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (endpoint_id, window_s, start_time)
    )""",
    """CREATE TABLE IF NOT EXISTS metrics (
        endpoint_id TEXT NOT NULL,
        window_s DOUBLE PRECISION NOT NULL,
        start_time DOUBLE PRECISION NOT NULL,
        name TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (endpoint_id, window_s, start_time, name)
    )""",
    """CREATE TABLE IF NOT EXISTS drift (
        endpoint_id TEXT NOT NULL,
        window_s DOUBLE PRECISION NOT NULL,
        start_time DOUBLE PRECISION NOT NULL,
        feature TEXT NOT NULL,
        tvd DOUBLE PRECISION NOT NULL,
        hellinger DOUBLE PRECISION NOT NULL,
        kl DOUBLE PRECISION NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        current_counts TEXT NOT NULL,
        PRIMARY KEY (endpoint_id, window_s, start_time, feature)
    )""",
    """CREATE TABLE IF NOT EXISTS alerts (
        alert_id TEXT PRIMARY KEY,
        endpoint_id TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        value DOUBLE PRECISION,
        details TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS windows_start ON windows (start_time)",
    "CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created)",
)

RETENTION = (
    "DELETE FROM drift WHERE start_time < ?",
    "DELETE FROM metrics WHERE start_time < ?",
    "DELETE FROM windows WHERE start_time < ?",
    "DELETE FROM alerts WHERE created < ?",
)
"""Retention: rows that start before the cut-off go (endpoints stay, with their status)."""


def upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` for ``columns`` (``?`` placeholders)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # noqa: S608 - names are constants
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )
