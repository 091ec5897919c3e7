"""The monitor as a Nuclio function: ``handler: nuserve.monitoring.nuclio:handler``.

``init_context`` reads ``NUSERVE_MONITOR`` (JSON: ``store``, ``references``, ``config``, as
``monitor_function`` writes it) once, builds the ``Monitor`` and starts a ticker thread that
closes due windows every second, since a trigger calls the handler only when records come.
``handler`` feeds the event's records (a tracking message: one record or a JSON array).
Windows live in the worker's memory: deploy one replica with one worker.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from nuserve.errors import ConfigError
from nuserve.monitoring.alerts import Alerter
from nuserve.monitoring.config import MonitorConfig
from nuserve.monitoring.consumer import decode
from nuserve.monitoring.monitor import Monitor
from nuserve.monitoring.runner import load_references
from nuserve.monitoring.store import open_store

ENV = "NUSERVE_MONITOR"
TICK_S = 1.0


def monitor_from_settings(settings: Mapping[str, Any], password: str | None = None) -> Monitor:
    """A ``Monitor`` from ``NUSERVE_MONITOR``'s decoded JSON."""
    if not isinstance(settings, Mapping) or not isinstance(settings.get("store"), str):
        raise ConfigError(
            f"{ENV} must be a JSON object with a 'store' URL (got {settings!r:.100}); "
            "write it with nuserve.monitoring.monitor_function"
        )
    config = MonitorConfig.from_dict(dict(settings.get("config") or {}))
    store = open_store(settings["store"], password)
    alerter = Alerter(config.alerts_stream, config.webhook_url, config.webhook_timeout_s)
    return Monitor(store, config, load_references(settings.get("references")), alerter)


def _tick(monitor: Monitor, stop: threading.Event, logger: Any) -> None:
    while not stop.wait(TICK_S):
        try:
            monitor.advance()
        except Exception as exc:  # noqa: BLE001 - keep ticking; the store may come back
            logger.error(f"nuserve monitor: closing windows failed: {exc}")


def init_context(context: Any) -> None:
    raw = os.environ.get(ENV)
    if not raw:
        raise ConfigError(f"{ENV} is not set; deploy the function.yaml monitor_function writes")
    monitor = monitor_from_settings(json.loads(raw), os.environ.get("PGPASSWORD"))
    stop = threading.Event()
    ticker = threading.Thread(
        target=_tick, args=(monitor, stop, context.logger), name="nuserve-monitor-tick", daemon=True
    )
    ticker.start()
    context.user_data.monitor = monitor
    context.user_data.monitor_stop = stop


def handler(context: Any, event: Any) -> str:
    monitor: Monitor = context.user_data.monitor
    body = event.body
    if isinstance(body, bytes | bytearray | memoryview):
        records = decode(bytes(body))
    elif isinstance(body, str):
        records = decode(body.encode())
    else:  # already decoded (an application/json HTTP body)
        records = body if isinstance(body, list) else [body]
    fed = sum(monitor.feed(record) for record in records)
    return json.dumps({"records": fed, "bad": len(records) - fed})
