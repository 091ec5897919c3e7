"""Shared pieces of the tracking tests: served functions, test sinks and fake models."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any

import numpy as np

import nuserve
from nuserve.context import ServingContext
from nuserve.server.mock import MockServer
from nuserve.tracking import tracking_settings
from nuserve.tracking.settings import TrackingSettings
from nuserve.tracking.sinks import MemorySink
from nuserve.tracking.tracker import StreamTracker
from tests.models import Echo

WIRE_FIELDS = [
    "schema", "class", "model", "version", "function_uri", "endpoint_id", "worker", "host",
    "labels", "when", "microsec", "op", "request", "resp", "metrics",
    "sampling_percentage", "effective_sample_count",
]  # fmt: skip
"""wire.md's tracking record, in order (``error`` comes before the sampling fields)."""

_names = itertools.count()


def sink_name() -> str:
    return f"t{next(_names)}-{uuid.uuid4().hex[:6]}"


def serve(model: Any = Echo, key: str = "m", **tracking: Any) -> tuple[MockServer, Any]:
    """A mock server tracking ``model`` (added as ``key``) to ``memory://<fresh name>``, and
    its sink."""
    tracking.setdefault("stream_path", f"memory://{sink_name()}")
    fn = nuserve.new_function("fn")
    fn.spec.tracking = tracking_settings(**tracking)
    fn.add_model(key, class_name=model)
    server = fn.to_mock_server()
    assert server.tracker is not None
    return server, server.tracker.sink  # type: ignore[attr-defined]


def memory_sink(server: MockServer) -> MemorySink:
    assert server.tracker is not None
    sink = server.tracker.sink  # type: ignore[attr-defined]
    assert isinstance(sink, MemorySink)
    return sink


class RecordingSink(MemorySink):
    """A memory sink that also notes when each ``send`` came and how many messages it had."""

    def __init__(self, name: str = "recording") -> None:
        super().__init__(name)
        self.sizes: list[int] = []
        self.times: list[float] = []

    def send(self, messages: list[bytes]) -> None:
        self.sizes.append(len(messages))
        self.times.append(time.monotonic())
        super().send(messages)


def tracker_with(sink: MemorySink, **settings: Any) -> StreamTracker:
    """A tracker on ``sink`` (not started), for tests that drive the sender themselves."""
    parsed = TrackingSettings(stream_path=sink.url, **settings)
    return StreamTracker(parsed, sink, ServingContext(function_name="fn"))


def request(server: MockServer, i: int, key: str = "m", **kw: Any) -> Any:
    return server.test(f"/v2/models/{key}/infer", {"id": f"r{i}", "inputs": [[i]]}, **kw)


class Metered(nuserve.V2ModelServer):
    """Sets a metric only on even inputs (odd requests must not inherit it)."""

    def load(self) -> None:
        self.model = "metered"

    def predict(self, request: dict[str, Any]) -> Any:
        value = request["inputs"][0][0]
        if value % 2 == 0:
            self.set_metric("even", value)
            self.set_metric("score", 0.5)
        return request["inputs"]


class Chosen(nuserve.V2ModelServer):
    """Logs only the first row and a summary instead of the outputs."""

    def load(self) -> None:
        self.model = "chosen"

    def predict(self, request: dict[str, Any]) -> Any:
        return np.asarray(request["inputs"]) * 2

    def logged_results(
        self, request: dict[str, Any], response: dict[str, Any], operation: str
    ) -> tuple[Any, Any]:
        return request["inputs"][0], {"rows": len(response["outputs"]), "op": operation}


class BadLogger(Echo):
    """``logged_results`` raises: the request must still be answered."""

    def logged_results(
        self, request: dict[str, Any], response: dict[str, Any], operation: str
    ) -> tuple[Any, Any]:
        raise RuntimeError("logging broke")


class Sleepy(nuserve.V2ModelServer):
    """Takes 1.2 s: the record's microsec must not wrap at one second."""

    def load(self) -> None:
        self.model = "sleepy"

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(1.2)
        return request["inputs"]


class AsyncMetered(nuserve.V2ModelServer):
    """An async model that sets a metric."""

    def load(self) -> None:
        self.model = "async"

    async def predict(self, request: dict[str, Any]) -> Any:
        await asyncio.sleep(0)
        self.set_metric("async", True)
        return request["inputs"]


class NumpyOut(nuserve.V2ModelServer):
    """Returns numpy values, one of them a non-contiguous view."""

    def load(self) -> None:
        self.model = "np"

    def predict(self, request: dict[str, Any]) -> Any:
        grid = np.arange(6, dtype=np.float32).reshape(2, 3)
        return {"grid": grid, "column": grid[:, 1], "n": np.int64(3), "odd": {1: "one"}}


def echo_model() -> Echo:
    model = Echo(name="m")
    model.start()
    return model


def track(tracker: StreamTracker, model: nuserve.V2ModelServer, i: int, body: Any = None) -> Any:
    """One request through ``tracker`` (no server around it)."""
    event = nuserve.Event(body if body is not None else {"id": f"r{i}", "inputs": [[i]]})
    return tracker.run(model, event, "infer", None)


def wait_for(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.005)
