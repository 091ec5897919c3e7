"""StreamTracker: wraps each sampled inference to emit a record, without ever blocking it.

The request path samples first (an untracked request costs one counter or one random
draw), then times the call, picks the logged inputs and outputs (references, no copies) and
puts one tuple on a bounded queue. Building the record dict and encoding JSON happen on the
sender thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from time import perf_counter
from typing import TYPE_CHECKING, Any

from nuserve.errors import NuserveError
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.streams.ratelog import RateLimitedLog
from nuserve.tracking.buffer import RecordBuffer
from nuserve.tracking.record import Header, model_header
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
        self.buffer = RecordBuffer(
            settings.queue_size,
            min(settings.max_messages * settings.batch, settings.queue_size // 2),
        )
        self.sender = Sender(self.buffer, sink, settings, self.log)
        self.sampler = Sampler(settings.sample, settings.sampling_percentage, settings.seed)
        self._headers: dict[V2ModelServer, Header] = {}
        self._errors = 0
        self._closed = False
        self._started = False

    # ----- request path -------------------------------------------------------------------

    def run(
        self, model: V2ModelServer, event: Event, operation: str, protocol: BodyProtocol | None
    ) -> Response | Awaitable[Response]:
        if not next(self.sampler.plan):  # Sampler.keep, inlined
            if model.is_async:
                return model.infer_async(event, operation, protocol)
            return model.infer(event, operation, protocol)
        if model.is_async:
            return self._run_async(model, event, operation, protocol)
        if model.metrics:
            model.metrics = {}
        began = perf_counter()
        try:
            response = model.infer(event, operation, protocol)
        except Exception as exc:
            self._track(model, event, operation, None, exc, began)
            raise
        # the common case inlined (a call with seven arguments costs more than the rest)
        ended = perf_counter()
        header = self._headers.get(model) or self._header(model)
        body, answer = event.body, response.body
        if header.custom_logged or type(body) is not dict or type(answer) is not dict:
            self._track(model, event, operation, response, None, began, ended)
            return response
        rid = body.get("id")
        metrics = model.metrics
        if metrics:
            model.metrics = {}
        buffer = self.buffer  # RecordBuffer.put, inlined
        next(buffer.puts)
        items = buffer.items
        items.append(
            (
                header,
                began,
                ended,
                operation,
                rid if type(rid) is str else event.id,
                body.get("inputs"),
                answer.get("outputs"),
                metrics or _NO_METRICS,
                None,
            )
        )
        if len(items) >= buffer.wake_at:
            buffer.wake()
        return response

    async def _run_async(
        self, model: V2ModelServer, event: Event, operation: str, protocol: BodyProtocol | None
    ) -> Response:
        if model.metrics:
            model.metrics = {}
        began = perf_counter()
        try:
            response = await model.infer_async(event, operation, protocol)
        except Exception as exc:
            self._track(model, event, operation, None, exc, began)
            raise
        self._track(model, event, operation, response, None, began)
        return response

    def _track(
        self,
        model: V2ModelServer,
        event: Event,
        op: str,
        response: Response | None,
        exc: Exception | None,
        began: float,
        ended: float | None = None,
    ) -> None:
        """Queue the record of a request: errors, async models, custom ``logged_results``."""
        ended = perf_counter() if ended is None else ended
        header = self._headers.get(model) or self._header(model)
        body = event.body
        inputs = outputs = None
        request_id: Any = event.id
        try:
            if type(body) is dict:
                answer = response.body if response is not None else None
                if type(answer) is not dict:
                    answer = {}
                if header.custom_logged:
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
        metrics = model.metrics
        if metrics:
            model.metrics = {}
        item = (
            header,
            began,
            ended,
            op,
            request_id,
            inputs,
            outputs,
            metrics or _NO_METRICS,
            error,
        )
        self.buffer.put(item)

    def record_generation(self, model: V2ModelServer, record: dict[str, Any]) -> None:
        """Queue the record of a generative request (``nuserve.llm``, OpenAI endpoints):
        its ``metrics`` carry the tokens read and written, the time to first token and the
        inter-token latency (ms), and the finish reason, as ``finish_<reason>: 1`` too (the
        monitoring windows' means of it are the shares of each reason)."""
        if not next(self.sampler.plan):
            return
        ended = perf_counter()
        began = ended - float(record.get("latency_ms") or 0.0) / 1000
        metrics: dict[str, Any] = {
            k: record[k]
            for k in ("prompt_tokens", "completion_tokens", "ttft_ms", "itl_ms", "finish_reason")
            if record.get(k) is not None
        }
        metrics["stream"] = bool(record.get("stream"))
        if record.get("finish_reason"):
            metrics[f"finish_{record['finish_reason']}"] = 1
        status = int(record.get("status") or 200)
        error = f"status {status}" if status >= 400 else None
        header = self._headers.get(model) or self._header(model)
        op = str(record.get("endpoint") or "generate")
        self.buffer.put((header, began, ended, op, record.get("id"), None, None, metrics, error))

    def _header(self, model: V2ModelServer) -> Header:
        s = self.settings
        custom = type(model).logged_results is not V2ModelServer.logged_results
        header = model_header(
            model, self.context, s.sampling_percentage / s.sample, s.effective_sample_count, custom
        )
        self._headers[model] = header
        return header

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
        self.sampler.stop()  # requests after close are served, not tracked
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
