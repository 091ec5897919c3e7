"""``request_timeout``: a request that overruns it is answered 504, and nothing else waits.

Sync hooks run in their model's lane thread (``nuserve.server.lanes``), which the caller waits for
with the timeout; async hooks are awaited with it and cancelled. Without the setting the
fast path runs hooks inline, on the caller's thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import nuclio_sdk
import orjson
import pytest
from nuclio_sdk.test import Platform

import nuserve
from nuserve.errors import ConfigError
from nuserve.event import Event, Response
from nuserve.function.serving_function import function_from_config
from nuserve.nuclio.adapter import handler, handler_async, init_context
from nuserve.nuclio.function_config import function_config
from nuserve.nuclio.spec_env import encode_spec
from nuserve.server.lanes import Lane
from nuserve.server.mock import MockServer
from nuserve.spec.serving import ServingSpec
from tests.nuclio_schema import check_function_config

TIMEOUT = 0.3
SLACK = 0.25
"""How late after the timeout a 504 may come (a loaded 2-core machine)."""
gate = threading.Event()
"""Hanging hooks wait on it (bounded); each test opens it at the end, so threads end."""
ran: list[tuple[str, Any]] = []


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    gate.clear()
    ran.clear()
    yield
    gate.set()


class Hang(nuserve.V2ModelServer):
    """Hangs (up to 20 s, until ``gate`` opens) on input "hang"; echoes anything else."""

    def load(self) -> None:
        self.model = "hang"

    def predict(self, request: dict[str, Any]) -> Any:
        ran.append((self.name, request["inputs"]))
        if request["inputs"] == ["hang"]:
            gate.wait(20)
        return request["inputs"]

    def op_stall(self, event: Event) -> str:
        gate.wait(20)
        return "late"


class AsyncHang(nuserve.V2ModelServer):
    async def load(self) -> None:
        self.model = "async"

    async def predict(self, request: dict[str, Any]) -> Any:
        await asyncio.sleep(20)
        ran.append((self.name, "not cancelled"))
        return request["inputs"]


class Thread(nuserve.V2ModelServer):
    """Answers the name of the thread that ran ``predict``."""

    def load(self) -> None:
        self.model = "thread"

    def predict(self, request: dict[str, Any]) -> Any:
        return threading.current_thread().name


class RaisesTimeout(nuserve.V2ModelServer):
    def load(self) -> None:
        self.model = "raises"

    def predict(self, request: dict[str, Any]) -> Any:
        raise TimeoutError("the model's own timeout")


def server(timeout: float | None = TIMEOUT) -> MockServer:
    fn = nuserve.new_function("timed")
    for key, cls in (("hang", Hang), ("other", Hang), ("async", AsyncHang), ("thread", Thread)):
        fn.add_model(key, class_name=cls)
    fn.add_model("raises", class_name=RaisesTimeout)
    fn.spec.request_timeout = timeout
    return fn.to_mock_server()


def infer(model: str, inputs: Any) -> Event:
    return Event({"inputs": inputs}, f"/v2/models/{model}/infer", "POST")


def timed(call: Any) -> tuple[Response, float]:
    began = time.perf_counter()
    response = call()
    return response, time.perf_counter() - began


def assert_504(response: Response, model: str, fate: str = "abandoned") -> None:
    assert response.status_code == 504
    assert set(response.body) == {"error", "id"}
    assert response.body["error"].startswith(
        f"model '{model}' did not answer within {TIMEOUT:g}s (request_timeout in the serving "
        f"spec); the call was {fate}"
    )


def test_a_hanging_predict_is_answered_504_and_the_other_models_answer_at_once() -> None:
    srv = server()
    response, took = timed(lambda: srv.run(infer("hang", ["hang"])))
    assert_504(response, "hang")
    assert TIMEOUT <= took < TIMEOUT + SLACK
    for model in ("other", "hang"):  # the hanging model's next requests too: a new thread
        response, took = timed(lambda m=model: srv.run(infer(m, [1])))  # type: ignore[misc]
        assert response.status_code == 200 and response.body["outputs"] == [1]
        assert took < SLACK
    assert srv.lanes is not None and srv.lanes.stats() == {"timed_out": 1, "stuck": 1}
    gate.set()
    deadline = time.monotonic() + 5
    while srv.lanes.stats()["stuck"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.lanes.stats() == {"timed_out": 1, "stuck": 0}  # it came back, answer dropped
    assert srv.run(infer("hang", [2])).body["outputs"] == [2]
    srv.close()


def test_run_async_answers_other_requests_while_one_hangs() -> None:
    srv = server()

    async def scenario() -> tuple[Response, float, list[tuple[Response, float]]]:
        began = time.perf_counter()
        hanging = asyncio.create_task(srv.run_async(infer("hang", ["hang"])))
        await asyncio.sleep(0.02)
        others = []
        for event in (
            infer("other", [1]),
            infer("thread", []),
            Event(None, "/v2/health/ready", "GET"),
        ):
            started = time.perf_counter()
            others.append((await srv.run_async(event), time.perf_counter() - started))
        return await hanging, time.perf_counter() - began, others

    response, took, others = asyncio.run(scenario())
    assert_504(response, "hang")
    assert TIMEOUT <= took < TIMEOUT + SLACK
    assert [r.status_code for r, _ in others] == [200, 200, 200]
    assert all(t < SLACK for _, t in others), others
    assert others[1][0].body["outputs"] == "nuserve-model 'thread'"  # its lane's thread
    srv.close()


def test_an_async_predict_is_cancelled_at_the_timeout() -> None:
    srv = server()
    response, took = timed(lambda: asyncio.run(srv.run_async(infer("async", [1]))))
    assert_504(response, "async", "cancelled")
    assert TIMEOUT <= took < TIMEOUT + SLACK
    response, took = timed(lambda: srv.run(infer("async", [1])))  # the sync entry point too
    assert_504(response, "async", "cancelled")
    assert srv.lanes is not None and srv.lanes.stats() == {"timed_out": 2, "stuck": 0}
    assert ran == []  # cancelled, not left running
    srv.close()


def test_a_request_queued_behind_a_hang_is_run_by_the_new_thread_in_its_time() -> None:
    srv = server()

    async def scenario() -> list[tuple[Response, float]]:
        began = time.perf_counter()

        async def one(inputs: list[str]) -> tuple[Response, float]:
            response = await srv.run_async(infer("hang", inputs))
            return response, time.perf_counter() - began

        first = asyncio.create_task(one(["hang"]))
        await asyncio.sleep(0.05)  # the second queues behind the first in the model's lane
        return [await first, await one(["queued"])]

    (first, _), (second, took) = asyncio.run(scenario())
    assert first.status_code == 504 and second.status_code == 200
    assert TIMEOUT <= took < TIMEOUT + SLACK  # started once the first was abandoned
    srv.close()


def test_a_call_that_overran_before_it_started_never_runs() -> None:
    lane = Lane("model 'm'")
    _, first = lane.submit(lambda _: gate.wait(20), None)
    queued, second = lane.submit(ran.append, "queued")
    lane.overran(queued)  # its request gave up while the first still ran
    gate.set()
    assert first.result(5) is True
    lane.close()
    time.sleep(0.05)
    assert ran == [] and not second.done()  # skipped: nobody waits for its answer
    assert lane.timed_out == 1 and lane.stuck() == 0


def test_a_lane_refuses_calls_once_four_are_stuck_and_recovers_when_they_end() -> None:
    srv = server()
    for _ in range(4):
        assert srv.run(infer("hang", ["hang"])).status_code == 504
    response = srv.run(infer("hang", [1]))
    assert response.status_code == 503 and response.headers == {"Retry-After": "5"}
    assert response.body["error"].startswith(
        "model 'hang': 4 calls are still running past the request timeout; new calls are "
        "refused until one ends"
    )
    assert srv.run(infer("other", [1])).status_code == 200  # other models are not affected
    gate.set()
    deadline = time.monotonic() + 5
    while srv.lanes is not None and srv.lanes.stats()["stuck"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.run(infer("hang", [1])).body["outputs"] == [1]
    srv.close()


def test_custom_operations_are_timed_and_health_is_not_held_by_a_stuck_model() -> None:
    srv = server()
    response = srv.run(Event({}, "/v2/models/hang/stall", "POST"))
    assert_504(response, "hang")
    for path in ("/v2/health/ready", "/v2/models/hang", "/v2/models"):
        response, took = timed(lambda p=path: srv.run(Event(None, p, "GET")))  # type: ignore[misc]
        assert response.status_code == 200 and took < SLACK
    srv.close()


def test_errors_keep_their_status_when_timed() -> None:
    srv = server()
    response = srv.run(infer("raises", [1]))  # the model's own TimeoutError is its error
    assert response.status_code == 500 and "the model's own timeout" in response.body["error"]
    assert srv.run(infer("nope", [1])).status_code == 404
    assert asyncio.run(srv.run_async(infer("raises", [1]))).status_code == 500
    srv.close()


def test_without_a_timeout_hooks_run_inline_on_the_callers_thread() -> None:
    srv = server(None)
    assert srv.lanes is None
    body = srv.run(infer("thread", [])).body
    assert body["outputs"] == threading.current_thread().name


# ----- the setting ------------------------------------------------------------------------


def test_the_setting_round_trips_and_bad_values_are_refused() -> None:
    spec = ServingSpec(request_timeout=2.5)
    assert spec.to_dict()["request_timeout"] == 2.5
    assert ServingSpec.from_dict(spec.to_dict()).request_timeout == 2.5
    assert "request_timeout" not in ServingSpec().to_dict()
    for bad in (0, -1, "30s", True):
        with pytest.raises(ConfigError, match=r"request_timeout must be a positive number of "):
            ServingSpec.from_dict({"request_timeout": bad})


@pytest.mark.parametrize(
    ("given", "seconds", "event_timeout"),
    [("30s", 30.0, "35s"), (2, 2.0, "7s"), ("1m30s", 90.0, "95s"), ("500ms", 0.5, "5.5s")],
)
def test_with_http_sets_it_and_nuclio_event_timeout_follows(
    given: Any, seconds: float, event_timeout: str
) -> None:
    fn = nuserve.new_function("f").with_http(request_timeout=given)
    fn.add_model("m", class_name="tests.models.Echo")
    assert fn.spec.request_timeout == seconds
    config = function_config(fn)
    assert config["spec"]["eventTimeout"] == event_timeout
    assert check_function_config(config) == []  # what nuctl accepts
    loaded = function_from_config(config)
    assert loaded.spec.request_timeout == seconds and loaded.spec.event_timeout is None
    assert function_config(loaded) == config
    fn.with_http(request_timeout=0)
    assert fn.spec.request_timeout is None and "eventTimeout" not in function_config(fn)["spec"]


def test_an_event_timeout_shorter_than_the_request_timeout_is_refused() -> None:
    fn = nuserve.new_function("f").with_http(request_timeout="30s")
    fn.add_model("m", class_name="tests.models.Echo")
    fn.spec.event_timeout = "1m"
    assert function_config(fn)["spec"]["eventTimeout"] == "1m"
    fn.spec.event_timeout = "10s"
    with pytest.raises(ConfigError, match=r"event_timeout 10s is shorter than request_timeout 30s"):
        function_config(fn)
    with pytest.raises(ConfigError, match=r"request_timeout must be a positive Go duration"):
        fn.with_http(request_timeout="soon")


# ----- under Nuclio's handlers --------------------------------------------------------------


def test_nuclio_handlers_answer_504_json(monkeypatch: pytest.MonkeyPatch) -> None:
    fn = nuserve.new_function("nuc")
    fn.add_model("hang", class_name=f"{__name__}.Hang")
    fn.spec.request_timeout = TIMEOUT
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    context = Platform()._context
    init_context(context)
    def event(event_id: str) -> nuclio_sdk.Event:
        return nuclio_sdk.Event(
            body=b'{"inputs": ["hang"]}', content_type="application/json", method="POST",
            path="/v2/models/hang/infer", trigger=nuclio_sdk.TriggerInfo("http", "http"),
            _id=event_id,
        )  # fmt: skip

    try:
        answers = (handler(context, event("n-1")), asyncio.run(handler_async(context, event("n-2"))))
        for answer, event_id in zip(answers, ("n-1", "n-2"), strict=True):
            assert answer.status_code == 504
            body = orjson.loads(answer.body)
            assert set(body) == {"error", "id"} and body["id"] == event_id
            assert "model 'hang' did not answer within 0.3s" in body["error"]
    finally:
        context.user_data.server.close()
        logging.getLogger("nuserve").handlers.clear()  # init_context forwarded it to Nuclio's
        logging.getLogger("nuserve").propagate = True


def hanging_step(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("hang"):
        gate.wait(20)
    return {"ok": body}


async def async_hanging_step(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("hang"):
        await asyncio.sleep(20)
    return {"ok": body}


@pytest.mark.parametrize(
    ("engine", "step", "fate"),
    [("sync", hanging_step, "abandoned"), ("async", async_hanging_step, "cancelled")],
)
def test_flows_are_timed_as_a_whole(engine: str, step: Any, fate: str) -> None:
    fn = nuserve.new_function("flowing")
    fn.set_topology("flow", engine=engine).to(step, name="s").respond()
    fn.spec.request_timeout = TIMEOUT
    srv = fn.to_mock_server()
    for run in (srv.run, lambda event: asyncio.run(srv.run_async(event))):
        response, took = timed(lambda r=run: r(Event({"hang": 1}, "/", "POST")))  # type: ignore[misc]
        assert response.status_code == 504 and TIMEOUT <= took < TIMEOUT + SLACK
        assert response.body["error"].startswith(
            f"function 'flowing' did not answer within {TIMEOUT:g}s (request_timeout in the "
            f"serving spec); the call was {fate}"
        )
    assert srv.test("/", {"x": 1}) == {"ok": {"x": 1}}
    srv.close()
