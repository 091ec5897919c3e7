"""Alerts: drift detected or too many errors, to an alerts stream and a webhook.

The monitor only queues an alert (``Alerter.send``); a background thread writes it to the
alerts stream (any tracking sink URL: ``file://``, ``kafka://``, ``memory://``) and POSTs
it to the webhook, so a slow or down receiver never holds the consumer back. The queue is
bounded; alerts that do not fit are dropped and counted.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from nuserve.errors import ConfigError
from nuserve.tracking.sinks import Sink, create_sink

logger = logging.getLogger("nuserve.monitoring.alerts")

DRIFT = "drift"
ERROR_RATE = "error_rate"


@dataclass(frozen=True)
class Alert:
    """One alert; ``details`` names the window, the features or the threshold."""

    endpoint_id: str
    kind: str
    message: str
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    alert_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Alerter:
    """Delivers alerts in the background; ``close`` sends what is queued (bounded wait)."""

    def __init__(
        self, stream: str = "", webhook_url: str = "", timeout: float = 3.0, queue_size: int = 1000
    ) -> None:
        if webhook_url and not webhook_url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook URL {webhook_url!r} must start with http:// or https://")
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.sink: Sink | None = create_sink(stream) if stream else None
        self.streamed = 0
        self.posted = 0
        self.failed = 0
        self.dropped = 0
        self._queue: queue.Queue[Alert] = queue.Queue(queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.sink is not None or webhook_url:
            self._thread = threading.Thread(target=self._main, name="nuserve-alerts", daemon=True)
            self._thread.start()

    def send(self, alert: Alert) -> None:
        if self._thread is None:
            return
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1
            logger.warning(
                "alert queue full; dropped %s alert for %s", alert.kind, alert.endpoint_id
            )

    def _main(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            try:
                alert = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self._deliver(alert)
        if self.sink is not None:
            try:
                self.sink.close()
            except Exception:
                logger.exception("alerts stream %r failed to close", self.sink)

    def _deliver(self, alert: Alert) -> None:
        body = json.dumps(alert.to_dict(), separators=(",", ":"), default=str).encode()
        if self.sink is not None:
            try:
                self.sink.send([body])
                self.streamed += 1
            except Exception as exc:  # noqa: BLE001 - any sink failure is logged and counted
                self.failed += 1
                logger.warning("alerts stream %r: %s", self.sink, exc)
        if self.webhook_url:
            request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
                self.webhook_url, body, {"Content-Type": "application/json"}, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                    answer.read()
                self.posted += 1
            except (urllib.error.URLError, OSError, ValueError) as exc:
                self.failed += 1
                logger.warning("alert webhook %s: %s", self.webhook_url, exc)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued for up to ``timeout`` s, then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error(
                    "alerts still being delivered %.0fs after close(); leaving them", timeout
                )
