"""The monitor process: a source, a ``Monitor``, a store, alerts and (optionally) the
dashboard, wired together. ``run_monitor`` is what ``nuserve monitor`` calls.

The loop polls the source for at most ``poll_s`` at a time, feeds the records, closes the
windows that are due, and stops when ``stop`` is set, after ``duration`` seconds, after
``max_records`` records, or on SIGTERM/SIGINT (when run on the main thread). On the way out
it stores the windows still open (partial ones) and sends the queued alerts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from nuserve.monitoring.alerts import Alerter
from nuserve.monitoring.config import MonitorConfig
from nuserve.monitoring.consumer import Source, open_source
from nuserve.monitoring.dashboard.server import Dashboard
from nuserve.monitoring.monitor import Monitor
from nuserve.monitoring.reference import Reference, load_reference
from nuserve.monitoring.store import DEFAULT_STORE, Store, open_store

logger = logging.getLogger("nuserve.monitoring")


def load_references(references: str | Mapping[str, str] | None) -> dict[str, Reference]:
    """``path`` (every model) or ``{model or "model:version" or "": path}``."""
    if references is None:
        return {}
    if isinstance(references, str):
        references = {"": references}
    return {key: load_reference(path) for key, path in references.items()}


class MonitorRunner:
    """A monitor run in a background thread (tests, notebooks): ``start()``, ``stop()``."""

    def __init__(
        self,
        stream: str | None,
        store: Store,
        references: Mapping[str, Reference] | None = None,
        config: MonitorConfig | None = None,
        dashboard: Dashboard | None = None,
        environ: Mapping[str, str] | None = None,
        poll_s: float = 0.5,
    ) -> None:
        self.config = config or MonitorConfig()
        self.store = store
        self.alerter = Alerter(
            self.config.alerts_stream, self.config.webhook_url, self.config.webhook_timeout_s
        )
        self.monitor = Monitor(store, self.config, references, self.alerter)
        self.source: Source | None = open_source(stream, environ) if stream else None
        self.dashboard = dashboard
        if dashboard is not None:
            dashboard.live = self.monitor.open_windows
        self.poll_s = poll_s
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, duration: float | None = None, max_records: int | None = None) -> dict[str, int]:
        """Consume until stopped (see the module doc); the monitor's counters."""
        deadline = None if duration is None else time.monotonic() + duration
        try:
            if self.dashboard is not None:
                self.dashboard.start()
            while not self.stop_event.is_set():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                wait = self.poll_s if left is None else min(self.poll_s, left)
                if self.source is None:
                    self.stop_event.wait(wait)
                    continue
                for record in self.source.poll(wait):
                    self.monitor.feed(record)
                self.monitor.advance()
                if max_records is not None and self.monitor.counts["records"] >= max_records:
                    break
        finally:
            self._close()
        return self.monitor.stats()

    def _close(self) -> None:
        try:
            if self.source is not None:
                self.monitor.flush()
        finally:
            if self.source is not None:
                self.source.close()
            self.alerter.close()
            if self.dashboard is not None:
                self.dashboard.stop()
            self.store.close()

    def start(self) -> MonitorRunner:
        self._thread = threading.Thread(target=self.run, name="nuserve-monitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)


def build_runner(
    stream: str | None,
    store_url: str = DEFAULT_STORE,
    *,
    references: str | Mapping[str, str] | None = None,
    config: MonitorConfig | None = None,
    serve: bool = False,
    host: str = "127.0.0.1",
    port: int = 8090,
    environ: Mapping[str, str] | None = None,
    poll_s: float = 0.5,
) -> MonitorRunner:
    """A ready ``MonitorRunner``: references loaded, store opened, dashboard bound."""
    env = os.environ if environ is None else environ
    refs = load_references(references)
    store = open_store(store_url, env.get("PGPASSWORD"))
    try:
        dashboard = Dashboard(store, host, port) if serve else None
        return MonitorRunner(stream, store, refs, config, dashboard, env, poll_s)
    except BaseException:
        store.close()
        raise


def run_monitor(
    stream: str | None,
    store_url: str = DEFAULT_STORE,
    *,
    references: str | Mapping[str, str] | None = None,
    config: MonitorConfig | None = None,
    serve: bool = False,
    host: str = "127.0.0.1",
    port: int = 8090,
    duration: float | None = None,
    max_records: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Consume ``stream`` (and/or serve the dashboard) until stopped; the counters.

    ``stream``: ``kafka://``, ``file://``, ``v3io://`` or ``memory://`` (None with
    ``serve=True`` serves the dashboard of an existing store). ``store_url``: SQLite path or
    ``postgresql://`` URL (``PGPASSWORD`` is read from ``environ``). ``references``: a model
    spec or feature_stats JSON for every model, or a mapping by model name.
    """
    runner = build_runner(
        stream, store_url, references=references, config=config, serve=serve, host=host,
        port=port, environ=environ,
    )  # fmt: skip
    if runner.dashboard is not None:
        logger.warning("nuserve monitor dashboard on %s", runner.dashboard.url)
    with _stop_on_signals(runner.stop_event):
        return runner.run(duration, max_records)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
