"""The dashboard's HTTP server (stdlib ``http.server``), bound to 127.0.0.1 by default.

    GET /                               endpoint list (HTML)
    GET /endpoints/<id>[?window=10m]    one endpoint: charts, drift table, alerts (HTML)
    GET /api/endpoints                  endpoint list (JSON)
    GET /api/endpoints/<id>[?window=]   one endpoint's time series and alerts (JSON)
    GET /api/endpoints/<id>/drift       latest drift verdict per feature (JSON)
    GET /api/alerts                     latest alerts (JSON)
    GET /metrics                        Prometheus gauges
    GET /health                         200 "ok"

Each request reads the store, and the monitor's windows still open when the dashboard runs
beside it (``live``): the page shows the current window filling and when it closes.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from nuserve.monitoring.dashboard import page, prometheus
from nuserve.monitoring.dashboard.views import Live, drift_view, endpoint_view, endpoints_view
from nuserve.monitoring.store import Store
from nuserve.streams.ratelog import RateLimitedLog

logger = logging.getLogger("nuserve.monitoring.dashboard")
HTML = "text/html; charset=utf-8"
JSON = "application/json"


def route(store: Store, target: str, live: Live | None = None) -> tuple[int, str, bytes]:
    """``(status, content type, body)`` for a GET of ``target`` (path and query)."""
    parts = urlsplit(target)
    path = parts.path.rstrip("/") or "/"
    windows = parse_qs(parts.query).get("window")
    window = windows[0] if windows else None
    segments = [unquote(s) for s in path.strip("/").split("/")] if path != "/" else []
    if path == "/":
        return 200, HTML, page.index_page(endpoints_view(store, live)).encode()
    if path == "/health":
        return 200, "text/plain", b"ok"
    if path == "/metrics":
        return 200, prometheus.CONTENT_TYPE, prometheus.render(store).encode()
    if segments == ["api", "endpoints"]:
        return _json(200, endpoints_view(store, live))
    if segments == ["api", "alerts"]:
        return _json(200, store.alerts())
    if len(segments) == 2 and segments[0] == "endpoints":
        view = endpoint_view(store, segments[1], window, live)
        if view is None:
            return 404, HTML, page.index_page(endpoints_view(store)).encode()
        drift = drift_view(store, segments[1], window) or {"features": []}
        return 200, HTML, page.endpoint_page(view, drift).encode()
    if len(segments) in (3, 4) and segments[:2] == ["api", "endpoints"]:
        if len(segments) == 4 and segments[3] != "drift":
            return _json(404, {"error": f"unknown path {path!r}; try .../drift"})
        if len(segments) == 3:
            found = endpoint_view(store, segments[2], window, live)
        else:
            found = drift_view(store, segments[2], window)
        if found is None:
            return _json(404, {"error": f"no endpoint {segments[2]!r}; see /api/endpoints"})
        return _json(200, found)
    return _json(404, {"error": f"unknown path {path!r}; see / or /api/endpoints"})


def _json(status: int, body: Any) -> tuple[int, str, bytes]:
    return status, JSON, json.dumps(body, default=str).encode()


class Dashboard:
    """Serves ``route`` in a background thread; ``start()`` then ``stop()``."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 8090) -> None:
        self.store = store
        self.live: Live | None = None
        """The monitor's open windows, when it runs beside the dashboard."""
        self._server = ThreadingHTTPServer((host, port), _handler(store, self))
        self._server.daemon_threads = True
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
            name="nuserve-dashboard",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Dashboard:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5.0)
        self._server.server_close()


def _handler(store: Store, dashboard: Dashboard) -> type[BaseHTTPRequestHandler]:
    # A broken store fails every request: one traceback per error type per interval.
    limited = RateLimitedLog(logger)

    class Handler(BaseHTTPRequestHandler):
        server_version = "nuserve-monitor"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("dashboard %s", format % args)

        def do_GET(self) -> None:
            try:
                status, kind, body = route(store, self.path, dashboard.live)
            except Exception as exc:  # noqa: BLE001 - answered 500, logged (throttled)
                limited.throttled_error(
                    f"route:{type(exc).__name__}",
                    "dashboard failed on %s: %s: %s",
                    *(self.path, type(exc).__name__, exc),
                    exc_info=True,
                )
                status, kind, body = _json(500, {"error": "internal error; see the monitor's log"})
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler
