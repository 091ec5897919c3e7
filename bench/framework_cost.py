"""Performance wave 2 (issue 19), one sitting: the framework's own cost and what batching and
workers add, each beside a floor measured in the same run.

Points (wrk on one core, each server pinned to the other, except the two-worker one, which
gets both cores, as users run it):

- zero model: ``nuserve serve`` with a ``predict`` that answers zeros against the bare ASGI
  app answering zeros (``bare_asgi.py --zero``): what nuserve itself costs, c=16;
- iris, 1 row: the bare floor, nuserve unbatched, nuserve batched (``max_batch_size=16``), at
  c=1, 16 and 64;
- iris, 1,000 rows: the floor and nuserve, c=16;
- ``--workers 2`` against ``--workers 1`` (iris, unpinned), c=64;
- RSS of each nuserve worker after its load (VmRSS of the worker processes).

Rounds alternate the servers so drift hits them alike; figures are medians over the rounds.

Run: ``python bench/framework_cost.py [--quick]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from http_bench import generator, load
from servers import (
    BODY,
    ROOT,
    cores,
    nuserve_command,
    prepare_iris,
    started,
    write_iris_yaml,
)

import nuserve

ZERO_PATH = "/v2/models/zero/infer"
RATIOS = [
    ("zero model / bare zero floor, c=16", "nuserve zero c=16", "bare zero c=16"),
    ("nuserve iris / bare iris, c=16", "nuserve iris c=16", "bare iris c=16"),
    ("batched iris / unbatched floor, c=16", "nuserve iris batched c=16", "bare iris c=16"),
    ("batched iris / unbatched nuserve, c=64", "nuserve iris batched c=64", "nuserve iris c=64"),
    ("1000 rows, nuserve / floor, c=16", "nuserve iris 1000 rows c=16", "bare iris 1000 rows c=16"),
    ("workers 2 / workers 1, c=64", "workers=2 c=64", "workers=1 c=64"),
]
ROWS_1000 = orjson.dumps({"inputs": [[5.1, 3.5, 1.4, 0.2]] * 1000})


@dataclass(frozen=True)
class Case:
    """One load on one server: which, at what concurrency, with which body."""

    label: str
    server: str
    concurrency: int
    path: str = "/v2/models/iris/infer"
    body: bytes = BODY


def zero_yaml(path: Path) -> Path:
    fn = nuserve.code_to_function("zero", filename=str(ROOT / "bench" / "zero_model.py"))
    fn.add_model("zero", class_name="Zero")
    fn.to_yaml(path)
    return path


def worker_rss_mb() -> dict[int, float]:
    """VmRSS (MB) of every ``nuserve serve`` worker process: a ``--workers 1`` server is its
    own worker; with more, uvicorn's spawned children (``multiprocessing``'s spawn entry)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            status = (entry / "status").read_text()
        except OSError:
            continue
        spawned = b"multiprocessing" in cmdline and b"spawn" in cmdline
        single = b"nuserve" in cmdline and b" serve " in cmdline and b"--workers 1 " in cmdline
        if not (spawned or single):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                found[int(entry.name)] = int(line.split()[1]) / 1024
    return found


def run_cases(
    ports: dict[str, int], cases: list[Case], seconds: int, rounds: int, wrk: str | None
) -> dict[str, list[dict[str, Any]]]:
    load_core = cores()[1]
    for case in cases:  # warm every server on its own body
        load(ports[case.server], case.concurrency, 1, load_core, wrk, case.path, case.body)
    results: dict[str, list[dict[str, Any]]] = {case.label: [] for case in cases}
    for round_ in range(rounds):
        for case in cases[:: -1 if round_ % 2 else 1]:
            port = ports[case.server]
            run = load(port, case.concurrency, seconds, load_core, wrk, case.path, case.body)
            results[case.label].append(run)
    return results


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def rows(results: dict[str, list[dict[str, Any]]]) -> Iterator[str]:
    yield f"{'point':<34}{'req/s':>9}{'min-max':>15}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"
    for label, runs in results.items():
        values = [run["rps"] for run in runs]
        failed = sum(run["errors"] + run["non2xx"] for run in runs)
        spread = f"{min(values):.0f}-{max(values):.0f}"
        yield (
            f"{label:<34}{median(runs, 'rps'):>9.0f}{spread:>15}"
            f"{median(runs, 'p50_ms'):>9.2f}{median(runs, 'p99_ms'):>9.2f}{failed:>8}"
        )


def ratio(results: dict[str, list[dict[str, Any]]], top: str, bottom: str) -> float:
    return median(results[top], "rps") / median(results[bottom], "rps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per point, one round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (medians are reported)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per point and round")
    args = parser.parse_args()
    seconds, rounds = (2, 1) if args.quick else (args.seconds, args.rounds)
    wrk = generator()
    server_core = cores()[0]
    bare = [sys.executable, str(ROOT / "bench" / "bare_asgi.py")]
    with tempfile.TemporaryDirectory(prefix="nuserve-wave2-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        iris = prepare_iris(tmp)
        batched = write_iris_yaml(tmp / "b16.yaml", iris.model_dir, max_batch_size=16)
        zero = zero_yaml(tmp / "zero.yaml")

        def serve(name: str, command: list[str], path: str = "/v2/models/iris/infer") -> int:
            return stack.enter_context(started(command, tmp / f"{name}.log", server_core, 60, path))

        ports = {
            "bare zero": serve("bare-zero", [*bare, "--zero"], ZERO_PATH),
            "nuserve zero": serve("zero", nuserve_command(zero), ZERO_PATH),
            "bare iris": serve("bare", [*bare, "--model", str(iris.model_dir)]),
            "nuserve iris": serve("iris", nuserve_command(iris.plain_yaml)),
            "nuserve iris batched": serve("batched", nuserve_command(batched)),
        }
        cases = [
            Case("bare zero c=16", "bare zero", 16, ZERO_PATH),
            Case("nuserve zero c=16", "nuserve zero", 16, ZERO_PATH),
        ]
        for c in (1, 16, 64):
            cases += [
                Case(f"bare iris c={c}", "bare iris", c),
                Case(f"nuserve iris c={c}", "nuserve iris", c),
                Case(f"nuserve iris batched c={c}", "nuserve iris batched", c),
            ]
        cases += [
            Case("bare iris 1000 rows c=16", "bare iris", 16, body=ROWS_1000),
            Case("nuserve iris 1000 rows c=16", "nuserve iris", 16, body=ROWS_1000),
        ]
        results = run_cases(ports, cases, seconds, rounds, wrk)
        rss = worker_rss_mb()
    with tempfile.TemporaryDirectory(prefix="nuserve-wave2w-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        iris = prepare_iris(tmp)
        one = stack.enter_context(started(nuserve_command(iris.plain_yaml, 1), tmp / "w1.log"))
        two = stack.enter_context(started(nuserve_command(iris.plain_yaml, 2), tmp / "w2.log"))
        worker_cases = [Case("workers=1 c=64", "w1", 64), Case("workers=2 c=64", "w2", 64)]
        results.update(run_cases({"w1": one, "w2": two}, worker_cases, seconds, rounds, wrk))
    print(f"load generator: {wrk or 'bench/loadgen.py'}; {seconds} s per point, {rounds} rounds")
    print("\n".join(rows(results)))
    print()
    for name, top, bottom in RATIOS:
        print(f"{name:<44}{ratio(results, top, bottom):.2f}x")
    p50 = median(results["nuserve iris batched c=1"], "p50_ms")
    p50 -= median(results["nuserve iris c=1"], "p50_ms")
    print(f"{'batched p50 at c=1, over unbatched':<44}{p50:+.2f} ms")
    print("worker RSS after load (MB): " + ", ".join(f"{v:.0f}" for v in sorted(rss.values())))


if __name__ == "__main__":
    main()
