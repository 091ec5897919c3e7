"""HTTP req/s and latency: ``nuserve serve`` (iris) against a bare ASGI app doing the same work.

All three servers (bare floor, nuserve, nuserve with batching) run at once, pinned to one
core; the load generator (``wrk`` when installed, else ``loadgen.py``) runs on another. Each
round measures every concurrency level on each server in turn (the order flips every round),
so drift and noise hit them alike. One row per request: ``POST /v2/models/iris/infer``.

Run: ``python bench/http_bench.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import (
    BODY,
    HOST,
    INFER,
    Iris,
    bare_command,
    cores,
    nuserve_command,
    pinned,
    prepare_iris,
    started,
)

LEVELS = (1, 16, 64)
BATCHED_LEVEL = 64
WRK_SCRIPT = Path(__file__).with_name("wrk_post.lua")
LOADGEN = Path(__file__).with_name("loadgen.py")


def generator(bundled: bool = False) -> str | None:
    """The path of ``wrk`` when installed (and not ``bundled``), else ``None``: loadgen.py."""
    return None if bundled else shutil.which("wrk")


def load(
    port: int,
    concurrency: int,
    seconds: int,
    core: int | None,
    wrk: str | None,
    path: str = INFER,
    body: bytes = BODY,
) -> dict[str, Any]:
    """One fixed-duration run: requests, rps, p50_ms, p99_ms, max_ms, errors, non2xx."""
    url = f"http://{HOST}:{port}{path}"
    if wrk:
        command = [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            url,
        ]
    else:
        command = [
            sys.executable,
            str(LOADGEN),
            url,
            "-c",
            str(concurrency),
            "-d",
            str(seconds),
            "--body",
            body.decode(),
        ]
    env = {**os.environ, "BENCH_BODY": body.decode()}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        env=env,
        preexec_fn=pinned(core),
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    if not wrk:
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    return {
        "requests": raw["requests"],
        "seconds": raw["duration_us"] / 1e6,
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1e3,
        "p99_ms": raw["p99_us"] / 1e3,
        "max_ms": raw["max_us"] / 1e3,
        "errors": raw["errors"],
        "non2xx": raw["non2xx"],
    }


@dataclass(frozen=True)
class Point:
    """One server at one concurrency, over the rounds."""

    server: str
    concurrency: int
    runs: list[dict[str, Any]]

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.runs)

    def spread(self, key: str) -> tuple[float, float]:
        values = [run[key] for run in self.runs]
        return min(values), max(values)

    @property
    def failures(self) -> int:
        return sum(run["errors"] + run["non2xx"] for run in self.runs)


def alternate(
    ports: dict[str, int], concurrency: int, seconds: int, rounds: int, wrk: str | None
) -> dict[str, list[dict[str, Any]]]:
    """Warm each server for 1 s, then load them in turn, the order flipping every round."""
    load_core = cores()[1]
    for port in ports.values():
        load(port, concurrency, 1, load_core, wrk)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in ports}
    for round_ in range(rounds):
        for name, port in list(ports.items())[:: -1 if round_ % 2 else 1]:
            results[name].append(load(port, concurrency, seconds, load_core, wrk))
    return results


def compare(
    iris: Iris, logs: Path, seconds: int, rounds: int, warm: int, wrk: str | None
) -> list[Point]:
    """Run every point ``rounds`` times, alternating the servers."""
    server_core, load_core = cores()
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with (
        started(bare_command(iris.model_dir), logs / "bare.log", server_core) as bare,
        started(nuserve_command(iris.plain_yaml), logs / "nuserve.log", server_core) as plain,
        started(nuserve_command(iris.batched_yaml), logs / "batched.log", server_core) as batched,
    ):
        servers = {"bare ASGI": bare, "nuserve": plain, "nuserve batched": batched}
        for port in servers.values():
            load(port, 16, warm, load_core, wrk)
        for round_ in range(rounds):
            order = list(servers.items())
            if round_ % 2:
                order.reverse()
            for concurrency in LEVELS:
                for name, port in order:
                    if name == "nuserve batched" and concurrency != BATCHED_LEVEL:
                        continue
                    result = load(port, concurrency, seconds, load_core, wrk)
                    runs.setdefault((name, concurrency), []).append(result)
    return [Point(name, c, found) for (name, c), found in sorted(runs.items(), key=_order)]


def _order(item: tuple[tuple[str, int], Any]) -> tuple[int, int]:
    (name, concurrency), _ = item
    return concurrency, ["bare ASGI", "nuserve", "nuserve batched"].index(name)


def table(points: list[Point]) -> str:
    rows = [
        f"{'server':<17}{'conc':>5}{'req/s':>9}{'req/s min-max':>17}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'failed':>8}"
    ]
    for p in points:
        low, high = p.spread("rps")
        rows.append(
            f"{p.server:<17}{p.concurrency:>5}{p.median('rps'):>9.0f}"
            f"{f'{low:.0f}-{high:.0f}':>17}{p.median('p50_ms'):>9.2f}"
            f"{p.median('p99_ms'):>9.2f}{p.failures:>8}"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per point, one round")
    parser.add_argument("--loadgen", action="store_true", help="use loadgen.py even with wrk")
    args = parser.parse_args()
    wrk = generator(args.loadgen)
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp:
        iris = prepare_iris(Path(tmp))
        seconds, rounds = (2, 1) if args.quick else (5, 2)
        points = compare(iris, Path(tmp), seconds, rounds, warm=1, wrk=wrk)
    print(f"load generator: {wrk or 'bench/loadgen.py'}")
    print(table(points))


if __name__ == "__main__":
    main()
