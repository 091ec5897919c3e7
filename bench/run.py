"""One command for every nuserve benchmark: prints the results and writes bench/RESULTS.md.

1. In-process overhead per request (mock ``server.test()``, Nuclio handler) vs ``predict``.
2. HTTP req/s, p50/p99 at concurrency 1/16/64: ``nuserve serve`` (iris) vs a bare ASGI app,
   and c=64 with batching on.
3. Cold start: ``import nuserve`` time and RSS; ``nuserve serve`` → first 200.
4. ``bench/tracking_cost.py``, ``tracking_http.py``, ``timeout_http.py``, ``ensemble.py``,
   ``flow.py`` when present. (``bench/soak.py`` runs on its own: 10 minutes.)
5. A cProfile of the Nuclio handler path.

Run: ``python bench/run.py [--quick] [--loadgen]``  (``--quick`` ≈ 1 min; full ≈ 3 min)
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import bare_asgi
import cold_start
import http_bench
import overhead
import servers
from goals import Goal, table
from servers import ROOT, cores, prepare_iris

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "RESULTS.md"
OTHERS = {
    "tracking_cost.py": "Tracking cost (in-process)",
    "tracking_http.py": "Tracking cost over HTTP",
    "timeout_http.py": "request_timeout cost over HTTP",
    "ensemble.py": "Ensemble",
    "flow.py": "Flow",
}


@dataclass(frozen=True)
class Mode:
    """How long each part runs."""

    overhead_calls: int
    http_seconds: int
    http_rounds: int
    imports: int
    serves: int
    other_timeout_s: int

    @classmethod
    def pick(cls, quick: bool) -> Mode:
        return cls(10_000, 2, 1, 5, 2, 30) if quick else cls(50_000, 5, 2, 9, 3, 60)


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def machine(wrk: str | None) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    server_core, load_core = cores()
    pinning = (
        f"server on CPU {server_core}, load generator on CPU {load_core}"
        if server_core is not None
        else "no pinning (fewer than 2 CPUs)"
    )
    generator = "bench/loadgen.py (asyncio, keep-alive)"
    if wrk:
        version = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        generator = f"{version.stdout.splitlines()[0].split(' Copyright')[0]} (bench/wrk_post.lua)"
    return [
        f"- Machine: nproc {nproc}, CPU `{cpu}`, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}",
        f"- Load generator: {generator}; {pinning}",
        f"- Servers: uvicorn http={bare_asgi.HTTP}, loop={bare_asgi.LOOP} (the same for nuserve "
        "and the bare floor)",
        f"- Commit: {git_commit()}",
    ]


def git_commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=30,
            check=False,
        )
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    return f"`{git('rev-parse', '--short', 'HEAD') or 'unknown'}`{dirty}"


def other_script(name: str, quick: bool, timeout: int) -> str:
    """The verbatim output of ``bench/<name>``, or why there is none."""
    path = BENCH / name
    if not path.is_file():
        return f"_bench/{name} does not exist yet; nothing was run._"
    command = [sys.executable, str(path)]
    if quick and "--quick" in path.read_text(encoding="utf-8"):
        command.append("--quick")
    shown = shlex.join(["python", f"bench/{name}", *command[2:]])
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp:
        log_file = Path(tmp) / "out.txt"
        process = servers.start(command, log_file)
        try:
            code: int | None = process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            servers.stop(process)  # its whole process group, should it have left children
        out = log_file.read_text(encoding="utf-8", errors="replace")
    if code is None:
        return f"`{shown}` **timed out after {timeout} s**; its output so far:\n\n" + fence(out)
    status = "" if code == 0 else f" **exited with {code}**"
    return f"`{shown}`{status}\n\n" + fence(out)


def fence(text: str) -> str:
    return "```text\n" + (text.rstrip() or "(no output)") + "\n```"


def http_goals(points: list[http_bench.Point]) -> list[Goal]:
    at = {(p.server, p.concurrency): p for p in points}
    bare, ours = at[("bare ASGI", 16)], at[("nuserve", 16)]
    plain64, batched64 = at[("nuserve", 64)], at[("nuserve batched", 64)]
    return [
        Goal(
            "HTTP c=16 req/s, % of the bare ASGI floor",
            100 * ours.median("rps") / bare.median("rps"),
            90,
            "%",
            at_least=True,
        ),
        Goal(
            "HTTP c=16 p99, x the bare ASGI floor's",
            ours.median("p99_ms") / bare.median("p99_ms"),
            1.2,
            "x",
        ),
        Goal(
            "HTTP c=64 batched req/s, x unbatched",
            batched64.median("rps") / plain64.median("rps"),
            5,
            "x",
            at_least=True,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (noisy), ≈ 1 min")
    parser.add_argument("--loadgen", action="store_true", help="bench/loadgen.py even with wrk")
    args = parser.parse_args()
    mode = Mode.pick(args.quick)
    wrk = http_bench.generator(args.loadgen)
    started = time.perf_counter()
    executable = Path(sys.executable)
    shown_python = (
        os.path.relpath(executable) if executable.is_relative_to(Path.cwd()) else str(executable)
    )
    header = [
        "# nuserve benchmark results",
        "",
        f"- Command: `{shlex.join([shown_python, *sys.argv])}` (in `{Path.cwd()}`)",
        f"- Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        *machine(wrk),
        f"- Mode: {'quick (short runs: noisy)' if args.quick else 'full'}",
    ]

    log("1/5 in-process overhead")
    timings = overhead.measure(mode.overhead_calls, runs=5)
    floor = timings["direct"].median
    goals = [
        Goal("mock `server.test()` overhead", timings["mock"].median - floor, 3, "µs"),
        Goal("Nuclio `handler()` overhead", timings["nuclio"].median - floor, 5, "µs"),
    ]
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp:
        iris = prepare_iris(Path(tmp))
        log("2/5 cold start")
        cold = cold_start.measure(
            iris.plain_yaml, iris.model_dir, Path(tmp), mode.imports, mode.serves
        )
        log(f"3/5 HTTP ({'wrk' if wrk else 'bench/loadgen.py'})")
        points = http_bench.compare(
            iris, Path(tmp), mode.http_seconds, mode.http_rounds, warm=1, wrk=wrk
        )
        served = (
            os.path.relpath(iris.plain_yaml, ROOT)
            if iris.plain_yaml.is_relative_to(ROOT)
            else "a copy of function.yaml serving a freshly trained model (examples/iris/model "
            "is not trained)"
        )
    goals += http_goals(points)
    goals += [
        Goal("`import nuserve` time", cold.median("seconds"), 0.25, "s"),
        Goal("`import nuserve` VmRSS", cold.median("rss_mb"), 60, "MB"),
        Goal("`nuserve serve` → first 200", statistics.median(cold.serve_s), 1.5, "s"),
    ]
    log("4/5 other benchmark scripts")
    others = {
        title: other_script(name, args.quick, mode.other_timeout_s)
        for name, title in OTHERS.items()
    }
    log("5/5 profile")
    profile = overhead.profile_handler(mode.overhead_calls // 2)

    body = [
        "## Goals",
        "",
        table(goals),
        "",
        "## 1. In-process overhead per request",
        "",
        f"Echo model, MLRun rows body `{overhead.BODY}`; median of 5 runs of "
        f"{mode.overhead_calls} calls each (min-max of the runs). The Nuclio path is a real "
        "`nuclio_sdk.Event` (HTTP trigger, bytes JSON body) through `handler(context, event)` "
        "after `init_context`. Overhead = median - the direct `predict` floor.",
        "",
        fence(overhead.report(timings)),
        "",
        "## 2. HTTP: `nuserve serve --workers 1` (iris) vs a bare ASGI app",
        "",
        f"`POST /v2/models/iris/infer`, one row per request; served file: `{served}`. The floor "
        "is `bench/bare_asgi.py` (raw ASGI, same JSON parse + sklearn `predict` + JSON answer). "
        f"{mode.http_seconds} s per point, {mode.http_rounds} round(s) alternating the servers; "
        "medians over the rounds (req/s min-max shown). `nuserve batched` is the same function "
        "with `max_batch_size=32, max_batch_time_ms=2`. sklearn's `predict` costs about the same "
        "for 1 and 128 rows, so batching saves the model call only, not the per-request HTTP "
        "and parsing work that dominates here.",
        "",
        fence(http_bench.table(points)),
        "",
        "## 3. Cold start",
        "",
        fence(cold_start.report(cold)),
        "",
        *(line for title, text in others.items() for line in (f"## {title}", "", text, "")),
        "## Profile",
        "",
        "cProfile of the Nuclio handler path (echo model), top 15 by tottime:",
        "",
        fence(profile),
        "",
        f"_Total bench time: {time.perf_counter() - started:.0f} s._",
    ]
    text = "\n".join([*header, "", *body]) + "\n" + kept_sections()
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    log(f"wrote {RESULTS}")


KEPT_FROM = "\n## Notes"
"""Sections from here on (hand-written notes, bench/soak.py's Soak) survive a rewrite."""


def kept_sections() -> str:
    """The tail of the current RESULTS.md that this script does not generate."""
    if not RESULTS.exists():
        return ""
    old = RESULTS.read_text(encoding="utf-8")
    start = old.find(KEPT_FROM)
    return old[start:] if start >= 0 else ""


if __name__ == "__main__":
    main()
