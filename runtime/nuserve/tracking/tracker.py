"""StreamTracker: wraps each sampled inference to emit a record, without ever blocking it.

The request path samples first (an untracked request costs one counter or one random
draw), then times the call, picks the logged inputs and outputs (references, no copies) and
puts one tuple on a bounded queue. Building the record dict and encoding JSON happen on the
sender thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nuserve.errors import NuserveError
from nuserve.model import V2ModelServer
from nuserve.tracking.buffer import RecordBuffer
from nuserve.tracking.ratelog import RateLimitedLog
from nuserve.tracking.record import model_header
from nuserve.tracking.sampling import Sampler
from nuserve.tracking.sender import Sender
from nuserve.tracking.settings import TrackingSettings
from nuserve.tracking.sinks.base import Sink

if TYPE_CHECKING:
    from nuserve.context import ServingContext
    from nuserve.event import Event, Response
    from nuserve.protocols import Protocol as BodyProtocol

logger = logging.getLogger("nuserve.tracking")
_NO_METRICS: dict[str, Any] = {}


class StreamTracker:
    """The ``Tracker`` of ``nuserve.tracking``: sampling, a bounded queue, a sender thread.

    ``set_metric`` values belong to the request being tracked: ``model.metrics`` is emptied
    before the call and handed to the record after it (concurrent requests of one async
    model share that dict, as in MLRun).
    """

    def __init__(self, settings: TrackingSettings, sink: Sink, context: ServingContext) -> None:
        self.settings = settings
        self.sink = sink
        self.context = context
        self.log = RateLimitedLog(logger)
        self.buffer = RecordBuffer(settings.queue_size)
        self.sender = Sender(self.buffer, sink, settings, self.log)
        sampler = Sampler(settings.sample, settings.sampling_percentage, settings.seed)
        self._keep: Callable[[], bool] | None = sampler.keep if sampler.active else None
        self._headers: dict[V2ModelServer, tuple[dict[str, Any], bool]] = {}
        self._errors = 0
        self._closed = False
        self._started = False

    # ----- request path -------------------------------------------------------------------

    def run(
        self, model: V2ModelServer, event: Event, operation: str, protocol: BodyProtocol | None
    ) -> Response | Awaitable[Response]:
        keep = self._keep
        if self._closed or (keep is not None and not keep()):
            if model.is_async:
                return model.infer_async(event, operation, protocol)
            return model.infer(event, operation, protocol)
        if model.is_async:
            return self._run_async(model, event, operation, protocol)
        start = time.time()
        began = time.perf_counter()
        if model.metrics:
            model.metrics = {}
        try:
            response = model.infer(event, operation, protocol)
        except Exception as exc:
            self._track(model, event, operation, None, exc, start, began)
            raise
        self._track(model, event, operation, response, None, start, began)
        return response

    async def _run_async(
        self, model: V2ModelServer, event: Event, operation: str, protocol: BodyProtocol | None
    ) -> Response:
        start = time.time()
        began = time.perf_counter()
        if model.metrics:
            model.metrics = {}
        try:
            response = await model.infer_async(event, operation, protocol)
        except Exception as exc:
            self._track(model, event, operation, None, exc, start, began)
            raise
        self._track(model, event, operation, response, None, start, began)
        return response

    def _track(
        self,
        model: V2ModelServer,
        event: Event,
        op: str,
        response: Response | None,
        exc: Exception | None,
        start: float,
        began: float,
    ) -> None:
        microsec = int((time.perf_counter() - began) * 1_000_000)
        metrics = model.metrics
        if metrics:
            model.metrics = {}
        else:
            metrics = _NO_METRICS
        header, custom = self._headers.get(model) or self._describe(model)
        body = event.body
        inputs = outputs = None
        request_id: Any = event.id
        try:
            if type(body) is dict:
                answer = response.body if response is not None else None
                if type(answer) is not dict:
                    answer = {}
                if custom:
                    inputs, outputs = model.logged_results(body, answer, op)
                else:
                    inputs, outputs = body.get("inputs"), answer.get("outputs")
                rid = body.get("id")
                if type(rid) is str:
                    request_id = rid
        except Exception:  # noqa: BLE001 - a user's logged_results must not fail the request
            self._errors += 1
            self.log.throttled_error(
                "logged", "%s.logged_results raised", type(model).__name__, exc_info=True
            )
        error = None
        if exc is not None:
            error = exc.message if isinstance(exc, NuserveError) else f"{type(exc).__name__}: {exc}"
        self.buffer.put((header, start, microsec, op, request_id, inputs, outputs, metrics, error))

    def _describe(self, model: V2ModelServer) -> tuple[dict[str, Any], bool]:
        s = self.settings
        header = model_header(
            model, self.context, s.sampling_percentage / s.sample, s.effective_sample_count
        )
        custom = type(model).logged_results is not V2ModelServer.logged_results
        self._headers[model] = (header, custom)
        return header, custom

    # ----- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the sender thread (once)."""
        if not self._started and not self._closed:
            self._started = True
            self.sender.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop tracking, send what is queued (for up to ``timeout`` s) and close the sink."""
        if self._closed:
            return
        self._closed = True
        if not self.sender.stop(timeout):
            logger.error("tracking sender still busy %.0fs after close(); leaving it", timeout)

    def wait_sent(self, timeout: float) -> bool:
        """Wait until nothing is queued or pending (tests, graceful drains); True if so."""
        deadline = time.monotonic() + timeout
        while self.stats()["queued"]:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def stats(self) -> dict[str, int]:
        """Counters: ``tracked`` records made; ``sent`` acknowledged by the sink; ``retried``
        sends; ``dropped`` records (queue overflow and given up); ``queued`` waiting now;
        ``errors`` (failed sends, encoding and ``logged_results`` failures)."""
        put, queued, taken, overflow = self.buffer.counts()
        sender = self.sender
        return {
            "tracked": put,
            "sent": sender.sent,
            "retried": sender.retried,
            "dropped": overflow + sender.lost,
            "queued": max(0, queued + taken - sender.sent - sender.lost),
            "errors": sender.errors + self._errors,
        }
