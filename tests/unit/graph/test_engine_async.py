"""The asyncio engine: concurrent branches, merges waiting for every input, async handlers."""

from __future__ import annotations

import asyncio
import time

from nuserve.event import Event
from nuserve.graph import FlowBuilder
from tests.unit.graph.flow_steps import AsyncCatcher, Fail, Sleep, async_inc, inc
from tests.unit.graph.harness import build, run


def test_branches_of_50ms_run_concurrently():
    graph = FlowBuilder(engine="async")
    start = graph.to(handler=lambda b: b, name="start")
    for name in ("a", "b", "c"):
        start.to(Sleep, name=name, seconds=0.05)
    graph.add_step("$merge", name="join", after=["a", "b", "c"])
    flow = build(graph)

    async def timed():
        await flow.dispatch(Event({}))  # warm up
        began = time.perf_counter()
        response = await flow.dispatch(Event({}))
        return response, time.perf_counter() - began

    response, elapsed = asyncio.run(timed())
    assert response.body == {"a": {"by": "a"}, "b": {"by": "b"}, "c": {"by": "c"}}
    assert elapsed < 0.14, f"three 50 ms branches took {elapsed * 1000:.0f} ms"


def test_merge_waits_for_branches_of_different_lengths():
    graph = FlowBuilder(engine="async")
    graph.to(Sleep, name="slow", seconds=0.03)
    graph.to(async_inc, name="fast").to(inc, name="faster")
    graph.add_step("$merge", name="join", after=["faster", "slow"])
    assert run(build(graph), 1).body == {"faster": 3, "slow": {"by": "slow"}}


def test_async_function_steps_mix_with_sync_ones():
    graph = FlowBuilder(engine="async")
    graph.to(async_inc).to(inc).to(async_inc, name="again").respond().to(inc, name="last")
    assert run(build(graph), 1).body == 4


def test_async_error_handler_answer():
    graph = FlowBuilder(engine="async")
    graph.to(Fail, name="bad")
    graph.error_handler(AsyncCatcher)
    response = run(build(graph), {"x": 4})
    assert (response.status_code, response.body) == (200, {"recovered": "bad x 4"})


def test_a_failing_branch_does_not_leave_the_other_running():
    graph = FlowBuilder(engine="async")
    graph.to(Fail, name="bad")
    graph.to(Sleep, name="slow", seconds=0.02).to(inc, name="after_slow", input_path="by")
    graph.add_step("$merge", name="join", after=["bad", "after_slow"])
    flow = build(graph)

    async def go():
        response = await flow.dispatch(Event({"x": 1}))
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return response, others

    response, others = asyncio.run(go())
    assert response.body["error"] in (
        "step 'bad' raised ValueError: bad x 1",
        "step 'after_slow' raised TypeError: can only concatenate str (not \"int\") to str",
    )
    assert others == []


def test_async_result_path_on_an_async_step():
    graph = FlowBuilder(engine="async")
    graph.to(async_inc, input_path="n", result_path="m")
    assert run(build(graph), {"n": 1}).body == {"n": 1, "m": 2}
