"""Nuclio's Python wrapper calls ``init_context`` and the handler from a coroutine on its own
event loop (``_nuclio_wrapper.py``: ``await self._handle_event(event)`` calls the entry point,
and awaits it when it returns a coroutine). Async models, async loads, async flows and
streams must answer there through the sync handler as well as through ``handler_async``.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import nuclio_sdk
import orjson
import pytest

import nuserve
from nuserve.aio import run_sync
from nuserve.function.serving_function import ServingFunction
from nuserve.nuclio.adapter import handler, handler_async, init_context
from nuserve.nuclio.spec_env import SPEC_ENV, encode_spec
from nuserve.server.private_loop import PrivateLoop
from tests.nuclio_wrapper import http_event


def async_router() -> ServingFunction:
    fn = nuserve.new_function("looped")
    fn.add_model("a", class_name="tests.models.AsyncEcho")
    fn.add_model("rows", class_name="tests.streaming_models.AsyncRows")
    return fn


def async_flow() -> ServingFunction:
    fn = nuserve.new_function("looped-flow")
    graph = fn.set_topology("flow")  # the async engine, MLRun's default
    graph.to(name="double", handler="tests.models.async_double").respond()
    return fn


def as_the_wrapper_does(fn: ServingFunction, entry: Any, events: list[Any]) -> list[Any]:
    """init_context, then each event through ``entry``, all inside one running loop."""

    async def wrapper() -> list[Any]:
        context = nuclio_sdk.Context(None, nuclio_sdk.Platform("local"), worker_id=0)
        init_context(context, environ={SPEC_ENV: encode_spec(fn.spec.serving_spec().to_dict())})
        answers = []
        for event in events:
            answer = entry(context, event)
            if asyncio.iscoroutine(answer):
                answer = await answer
            if inspect.isgenerator(answer.body):  # a streamed answer, written chunk by chunk
                answer.body = b"".join(
                    c if isinstance(c, bytes) else c.encode() for c in answer.body
                )
            answers.append(answer)
        return answers

    return asyncio.run(wrapper())


def body_of(reply: Any) -> Any:
    return orjson.loads(reply.body)


@pytest.mark.parametrize("entry", [handler, handler_async], ids=["sync", "async"])
def test_an_async_model_answers_inside_the_wrappers_loop(entry):
    request = orjson.dumps({"inputs": [1, 2]})
    replies = as_the_wrapper_does(
        async_router(), entry, [http_event(request, "/v2/models/a/infer") for _ in range(3)]
    )
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert body_of(replies[0])["outputs"] == {"inputs": [1, 2], "pre": True}


@pytest.mark.parametrize("entry", [handler, handler_async], ids=["sync", "async"])
def test_an_async_flow_answers_inside_the_wrappers_loop(entry):
    event = http_event(orjson.dumps({"inputs": [1, 2, 3]}), "/")
    (reply,) = as_the_wrapper_does(async_flow(), entry, [event])
    assert (reply.status_code, body_of(reply)) == (200, {"doubled": [2, 4, 6]})


def test_a_streamed_answer_is_read_inside_the_wrappers_loop():
    fn = async_router()
    request = orjson.dumps({"inputs": [1, 2]})
    (reply,) = as_the_wrapper_does(fn, handler, [http_event(request, "/v2/models/rows/infer")])
    assert reply.status_code == 200
    assert b"1" in reply.body and b"2" in reply.body


def test_the_private_loop_stays_one_loop_after_it_moves_to_its_thread():
    private = PrivateLoop()

    async def which() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def from_a_coroutine() -> asyncio.AbstractEventLoop:
        return private.complete(which())

    try:
        before = private.complete(which())
        inside = asyncio.run(from_a_coroutine())
        after = private.complete(which())
    finally:
        private.close()
    assert before is inside is after


def test_run_sync_inside_a_loop_runs_and_raises_as_the_caller_expects():
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def boom() -> None:
        raise ValueError("from the coroutine")

    async def caller() -> int:
        with pytest.raises(ValueError, match="from the coroutine"):
            run_sync(boom())
        return run_sync(answer())

    assert asyncio.run(caller()) == 42
    assert run_sync(answer()) == 42
