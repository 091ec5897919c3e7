"""Store: the monitoring tables behind one small interface, one SQL text for both backends.

A backend gives a DB-API connection and its placeholder (SQLite ``?``, pg8000 ``%s``); the
statements are written with ``?`` and translated once. One connection serves the consumer
(writes) and the dashboard (reads) under a lock: monitoring writes a few rows per window,
so a pool would buy nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nuserve.monitoring.store.schema import RETENTION, TABLES, upsert

_ENDPOINT = (
    "endpoint_id", "function_uri", "model", "version", "model_class", "labels", "reference",
    "first_seen", "last_seen", "status", "general_drift", "error_rate", "drifted",
)  # fmt: skip
_WINDOW = (
    "endpoint_id", "window_s", "start_time", "requests", "errors", "error_rate", "p50", "p90",
    "p99", "row_count", "predictions", "general_drift", "tvd_mean", "hellinger_mean", "kl_mean",
    "general_status", "status",
)  # fmt: skip
_DRIFT = (
    "endpoint_id", "window_s", "start_time", "feature", "tvd", "hellinger", "kl", "value",
    "status", "current_counts",
)  # fmt: skip
_METRIC = ("endpoint_id", "window_s", "start_time", "name", "value")
_ALERT = ("alert_id", "endpoint_id", "created", "kind", "message", "value", "details")
_WKEY = ("endpoint_id", "window_s", "start_time")
_JSON = {"labels", "reference", "drifted", "predictions", "current_counts", "details"}


@dataclass(frozen=True)
class EndpointInfo:
    """Who an endpoint is, from its tracking records' header."""

    endpoint_id: str
    function_uri: str
    model: str
    version: str
    model_class: str
    labels: dict[str, Any] = field(default_factory=dict)


class Store:
    """The monitoring store; ``open_store(url)`` picks the backend."""

    def __init__(self, connection: Any, placeholder: str, url: str) -> None:
        self.url = url
        self._conn = connection
        self._placeholder = placeholder
        self._lock = threading.Lock()
        self._sql: dict[str, str] = {}
        self._write([(statement, ()) for statement in TABLES])

    # ----- plumbing -------------------------------------------------------------------

    def _text(self, sql: str) -> str:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = sql.replace("?", self._placeholder)
        return text

    def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> int:
        """Run ``statements`` in one transaction; the rows they changed."""
        changed = 0
        with self._lock:
            cursor = self._conn.cursor()
            try:
                for sql, params in statements:
                    cursor.execute(self._text(sql), tuple(params))
                    changed += max(cursor.rowcount or 0, 0)
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
            finally:
                cursor.close()
        return changed

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._conn.cursor()
            try:
                cursor.execute(self._text(sql), tuple(params))
                names = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
                self._conn.commit()  # end the read transaction (PostgreSQL holds it open)
            finally:
                cursor.close()
        return [
            {
                n: json.loads(v) if n in _JSON and v is not None else v
                for n, v in zip(names, row, strict=True)
            }
            for row in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ----- writes ---------------------------------------------------------------------

    def save_endpoint(self, info: EndpointInfo, reference: dict[str, Any], seen: float) -> None:
        """Create the endpoint or refresh its header and ``last_seen`` (keeps its status)."""
        known = self._read(
            "SELECT first_seen FROM endpoints WHERE endpoint_id = ?", (info.endpoint_id,)
        )
        if known:
            self._write([(
                "UPDATE endpoints SET function_uri = ?, model = ?, version = ?, model_class = ?, "
                "labels = ?, reference = ?, last_seen = ? WHERE endpoint_id = ?",
                (info.function_uri, info.model, info.version, info.model_class,
                 _dump(info.labels), _dump(reference), seen, info.endpoint_id),
            )])  # fmt: skip
            return
        values = (
            info.endpoint_id, info.function_uri, info.model, info.version, info.model_class,
            _dump(info.labels), _dump(reference), seen, seen, "NO_DATA", None, None, "[]",
        )  # fmt: skip
        self._write([(upsert("endpoints", _ENDPOINT, ("endpoint_id",)), values)])

    def save_window(
        self, window: dict[str, Any], drift: list[dict[str, Any]], metrics: dict[str, float]
    ) -> None:
        """One closed window with its drift rows and metric means, in one transaction."""
        key = tuple(window[k] for k in _WKEY)
        statements: list[tuple[str, Sequence[Any]]] = [
            (upsert("windows", _WINDOW, _WKEY), [_cell(k, window[k]) for k in _WINDOW])
        ]
        statements += [
            (
                upsert("drift", _DRIFT, (*_WKEY, "feature")),
                [*key, *(_cell(k, d[k]) for k in _DRIFT[3:])],
            )
            for d in drift
        ]
        statements += [
            (upsert("metrics", _METRIC, (*_WKEY, "name")), (*key, name, value))
            for name, value in metrics.items()
        ]
        self._write(statements)

    def set_status(
        self,
        endpoint_id: str,
        status: str,
        general: float | None,
        error_rate: float,
        drifted: list[str],
        seen: float,
    ) -> None:
        self._write([(
            "UPDATE endpoints SET status = ?, general_drift = ?, error_rate = ?, drifted = ?, "
            "last_seen = CASE WHEN last_seen > ? THEN last_seen ELSE ? END WHERE endpoint_id = ?",
            (status, general, error_rate, _dump(drifted), seen, seen, endpoint_id),
        )])  # fmt: skip

    def save_alert(self, alert: dict[str, Any]) -> None:
        self._write(
            [(upsert("alerts", _ALERT, ("alert_id",)), [_cell(k, alert[k]) for k in _ALERT])]
        )

    def purge(self, before: float) -> int:
        """Delete windows, drift, metrics and alerts older than ``before``; rows deleted."""
        return self._write([(sql, (before,)) for sql in RETENTION])

    # ----- reads ----------------------------------------------------------------------

    def endpoints(self) -> list[dict[str, Any]]:
        return self._read("SELECT * FROM endpoints ORDER BY function_uri, model, version")

    def endpoint(self, endpoint_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM endpoints WHERE endpoint_id = ?", (endpoint_id,))
        return rows[0] if rows else None

    def window_lengths(self, endpoint_id: str) -> list[float]:
        rows = self._read(
            "SELECT DISTINCT window_s FROM windows WHERE endpoint_id = ? ORDER BY window_s",
            (endpoint_id,),
        )
        return [float(r["window_s"]) for r in rows]

    def windows(self, endpoint_id: str, window_s: float, limit: int = 200) -> list[dict[str, Any]]:
        """The latest ``limit`` windows of one length, oldest first."""
        rows = self._read(
            "SELECT * FROM windows WHERE endpoint_id = ? AND window_s = ? "
            "ORDER BY start_time DESC LIMIT ?",
            (endpoint_id, window_s, limit),
        )
        return rows[::-1]

    def drift(self, endpoint_id: str, window_s: float, start_time: float) -> list[dict[str, Any]]:
        return self._read(
            "SELECT * FROM drift WHERE endpoint_id = ? AND window_s = ? AND start_time = ? "
            "ORDER BY feature",
            (endpoint_id, window_s, start_time),
        )

    def metrics(self, endpoint_id: str, window_s: float, start_time: float) -> dict[str, float]:
        rows = self._read(
            "SELECT name, value FROM metrics "
            "WHERE endpoint_id = ? AND window_s = ? AND start_time = ?",
            (endpoint_id, window_s, start_time),
        )
        return {r["name"]: float(r["value"]) for r in rows}

    def alerts(self, endpoint_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The latest alerts, newest first."""
        if endpoint_id is None:
            return self._read("SELECT * FROM alerts ORDER BY created DESC LIMIT ?", (limit,))
        return self._read(
            "SELECT * FROM alerts WHERE endpoint_id = ? ORDER BY created DESC LIMIT ?",
            (endpoint_id, limit),
        )


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _cell(name: str, value: Any) -> Any:
    return _dump(value) if name in _JSON else value
