"""In-process overhead per request: mock ``server.test()`` and the Nuclio handler vs ``predict``.

Echo model, MLRun rows body. The floor is a direct ``predict`` call; the mock server gets the
body as a dict; the Nuclio path gets a real ``nuclio_sdk.Event`` (HTTP trigger, bytes JSON
body) through ``nuserve.nuclio.handler`` after ``init_context``, as a Nuclio processor
calls it.
Rounds interleave the three so that noise hits them alike.

Run: ``python bench/overhead.py [--quick]`` (``--profile`` prints the handler's cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nuclio_sdk
import orjson

import nuserve
from nuserve.nuclio.adapter import handler, init_context
from nuserve.nuclio.spec_env import SPEC_ENV, encode_spec
from nuserve.serve.context import new_context

ROOT = Path(__file__).resolve().parents[1]
ECHO_FILE = ROOT / "bench" / "echo_model.py"
PATH = "/v2/models/echo/infer"
BODY: dict[str, Any] = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}


@dataclass(frozen=True)
class Timing:
    """Per-call microseconds of one way of calling, over several runs."""

    name: str
    runs_us: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs_us)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.runs_us), max(self.runs_us)


@dataclass(frozen=True)
class Paths:
    """The three ways to run one request, ready to call."""

    direct: Callable[[], Any]
    mock: Callable[[], Any]
    nuclio: Callable[[], Any]


def build() -> Paths:
    fn = nuserve.code_to_function("bench", filename=str(ECHO_FILE))
    fn.add_model("echo", class_name="Echo")
    server = fn.to_mock_server()
    model = server.root.routes["echo"]
    context = new_context("warning")
    init_context(context, {SPEC_ENV: encode_spec(fn.spec.serving_spec().to_dict())})
    event = nuclio_sdk.Event(
        body=orjson.dumps(BODY),
        content_type="application/json",
        trigger=nuclio_sdk.TriggerInfo("http", "http"),
        path=PATH,
        method="POST",
        headers={"Content-Type": "application/json"},
        _id="bench-1",
    )
    paths = Paths(
        direct=lambda: model.predict(BODY),
        mock=lambda: server.test(PATH, BODY),
        nuclio=lambda: handler(context, event),
    )
    check(paths)
    return paths


def check(paths: Paths) -> None:
    """Each path answers the echo, so the timings are of working calls."""
    assert paths.direct() == BODY["inputs"]
    assert paths.mock()["outputs"] == BODY["inputs"]
    response = paths.nuclio()
    assert response.status_code == 200, response.body
    assert orjson.loads(response.body)["outputs"] == BODY["inputs"]


def per_call_us(call: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n * 1e6


def measure(n: int, runs: int) -> dict[str, Timing]:
    paths = build()
    calls = {"direct": paths.direct, "mock": paths.mock, "nuclio": paths.nuclio}
    for call in calls.values():
        per_call_us(call, max(n // 10, 100))  # warm-up
    results: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            results[name].append(per_call_us(call, n))
    return {name: Timing(name, runs_us) for name, runs_us in results.items()}


def profile_handler(n: int, lines: int = 15) -> str:
    """The top ``lines`` functions (by tottime) of ``n`` Nuclio handler calls."""
    call = build().nuclio
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    text = out.getvalue()
    table = text[text.index("   ncalls") :] if "   ncalls" in text else text
    table = table.replace(f"{ROOT}/", "")
    return f"{n} calls of handler(context, event)\n\n{table.rstrip()}\n"


def report(timings: dict[str, Timing]) -> str:
    floor = timings["direct"].median
    rows = [f"{'path':<30}{'median µs':>10}{'min-max µs':>18}{'overhead µs':>13}"]
    labels = {
        "direct": "predict() direct (floor)",
        "mock": "mock server.test()",
        "nuclio": "Nuclio handler(ctx, event)",
    }
    for name, timing in timings.items():
        low, high = timing.spread
        over = "" if name == "direct" else f"{timing.median - floor:>13.2f}"
        rows.append(f"{labels[name]:<30}{timing.median:>10.2f}{f'{low:.2f}-{high:.2f}':>18}{over}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls per run")
    parser.add_argument("--profile", action="store_true", help="print the handler's cProfile")
    args = parser.parse_args()
    n = 10_000 if args.quick else 50_000
    print(report(measure(n, runs=5)))
    if args.profile:
        print(profile_handler(n // 2))


if __name__ == "__main__":
    main()
