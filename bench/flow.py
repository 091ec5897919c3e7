"""Per-event cost of a flow of 3 trivial steps (sync and asyncio engines) over the floor.

The floor is calling the three step functions directly. ``sync`` is ``flow.dispatch(event)``;
the async engine is timed awaited inside a running event loop (the local server, Nuclio's
async handler) and with one ``run_until_complete`` per event (what ``GraphServer.run`` does
for an async graph under Nuclio's sync handler); each beside an ``async def`` that calls the
three functions, which shows what the event loop itself costs. When the server serves flows,
``to_mock_server().test()`` is timed too (event building and error handling included).
Medians of ``RUNS`` runs. Run: ``python bench/flow.py [events per run]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import nuserve
from nuserve.context import ServingContext
from nuserve.event import Event
from nuserve.graph import FlowBuilder, Step, build_flow

N = 200_000
RUNS = 7


def f1(body):
    return body


def f2(body):
    return body


def f3(body):
    return body


class S1(Step):
    def do(self, body):
        return body


class S2(Step):
    def do(self, body):
        return body


class S3(Step):
    def do(self, body):
        return body


async def floor_async(body):
    return f3(f2(f1(body)))


def no_router(spec):
    raise AssertionError("no routers here")


def flow_of(engine: str, classes: bool):
    graph = FlowBuilder(engine=engine)
    steps = (S1, S2, S3) if classes else (f1, f2, f3)
    graph.to(steps[0]).to(steps[1]).to(steps[2])
    flow = build_flow(graph.spec, ServingContext(), [], no_router)
    flow.freeze()
    return flow


def mock_server(engine: str):
    """The flow behind ``to_mock_server()``, or ``None`` before the server serves flows."""
    fn = nuserve.new_function("bench")
    try:
        graph = fn.set_topology("flow", engine=engine)
    except nuserve.ConfigError:
        return None
    graph.to(f1).to(f2).to(f3)
    return fn.to_mock_server()


def per_call_us(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def in_loop_us(dispatch, arg, n: int) -> float:
    async def go() -> float:
        start = time.perf_counter()
        for _ in range(n):
            await dispatch(arg)
        return (time.perf_counter() - start) / n * 1e6

    return asyncio.run(go())


def main(n: int = N, runs: int = RUNS) -> dict[str, float]:
    body = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}
    event = Event(body)
    sync_fn, sync_cls = flow_of("sync", False), flow_of("sync", True)
    async_fn = flow_of("async", False)
    loop = asyncio.new_event_loop()
    mocks = {engine: mock_server(engine) for engine in ("sync", "async")}
    keys = ("floor", "sync", "sync_cls", "afloor", "async", "afloor_ruc", "async_ruc",
            "mock_sync", "mock_async")  # fmt: skip
    samples: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(runs):
        samples["floor"].append(per_call_us(lambda: f3(f2(f1(body))), n))
        samples["sync"].append(per_call_us(lambda: sync_fn.dispatch(event), n))
        samples["sync_cls"].append(per_call_us(lambda: sync_cls.dispatch(event), n))
        samples["afloor"].append(in_loop_us(floor_async, body, n // 4))
        samples["async"].append(in_loop_us(async_fn.dispatch, event, n // 4))
        samples["afloor_ruc"].append(
            per_call_us(lambda: loop.run_until_complete(floor_async(body)), n // 20)
        )
        samples["async_ruc"].append(
            per_call_us(lambda: loop.run_until_complete(async_fn.dispatch(event)), n // 20)
        )
        for engine, server in mocks.items():
            if server is not None:
                calls = n // 4 if engine == "sync" else n // 20
                samples[f"mock_{engine}"].append(
                    per_call_us(lambda s=server: s.test("/", body), calls)
                )
    loop.close()
    med = {k: statistics.median(v) for k, v in samples.items() if v}
    floor = med["floor"]
    rows = [
        ("3 functions called directly (floor)", "floor"),
        ("sync engine, function steps", "sync"),
        ("sync engine, Step classes", "sync_cls"),
        ("async def calling the 3, awaited", "afloor"),
        ("async engine, awaited in a loop", "async"),
        ("async def calling the 3, one loop turn", "afloor_ruc"),
        ("async engine, one loop turn", "async_ruc"),
        ("mock server test(), sync engine", "mock_sync"),
        ("mock server test(), async engine", "mock_async"),
    ]
    print(f"{'what':<40}{'µs/event':>10}{'over floor':>12}{'spread':>9}")
    for label, key in rows:
        if key not in med:
            continue
        spread = max(samples[key]) - min(samples[key])
        over = "" if key == "floor" else f"{med[key] - floor:>12.3f}"
        print(f"{label:<40}{med[key]:>10.3f}{over:>12}{spread:>9.3f}")
    return {**med, **{f"{k}_over_floor": med[k] - floor for k in med if k != "floor"}}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else N)
