"""Tracking cost over HTTP: ``nuserve serve`` of iris with Kafka tracking on vs off, same run.

Both servers serve the iris example (``--workers 1``); the tracked one records every request
to a topic on a real broker started from ``tests/kafka/broker.py``. The two are loaded in
turn at concurrency 16, alternating over the rounds. Goal: ≤ 5 % fewer req/s with tracking.

Each server is pinned to one core, the load generator to the other. The broker runs on this
machine too: by default its JVM is pinned to the load generator's core, so that the server's
core does the server's work only, as it would with the broker on another machine
(``--broker-anywhere`` leaves it to the scheduler). Besides req/s, the table gives the CPU
each request cost the server's process (µs, all threads: event loop, tracking sender,
librdkafka) and the broker's JVM, read from ``/proc`` around each load run: on a shared
machine these move less than req/s.

Run: ``python bench/tracking_http.py [--quick] [--broker-anywhere]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from http_bench import generator, load
from servers import (
    IRIS_CODE,
    PIDS,
    cores,
    cpu_seconds,
    group_pids,
    nuserve_command,
    pin_all_threads,
    prepare_iris,
    started,
)

import nuserve
from tests.kafka.broker import KafkaBroker

CONCURRENCY = 16


def alternate_cpu(
    ports: dict[str, int], seconds: int, rounds: int, wrk: str | None, broker_pid: int | None
) -> dict[str, list[dict[str, Any]]]:
    """``http_bench.alternate``, with the CPU of each server and of the broker per request."""
    load_core = cores()[1]
    for port in ports.values():
        load(port, CONCURRENCY, 1, load_core, wrk)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in ports}
    broker = [broker_pid] if broker_pid else []
    for round_ in range(rounds):
        for name, port in list(ports.items())[:: -1 if round_ % 2 else 1]:
            server = group_pids(PIDS[port])
            before, broker_before = cpu_seconds(server), cpu_seconds(broker)
            run = load(port, CONCURRENCY, seconds, load_core, wrk)
            requests = max(1, run["requests"])
            run["cpu_us"] = (cpu_seconds(server) - before) / requests * 1e6
            run["broker_us"] = (cpu_seconds(broker) - broker_before) / requests * 1e6
            results[name].append(run)
    return results


def tracked_yaml(
    path: Path, model_dir: Path, bootstrap: str, stream: str | None = None, **options: Any
) -> Path:
    fn = nuserve.code_to_function("iris", filename=str(IRIS_CODE), kind="serving")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model_dir))
    fn.set_tracking(stream or f"kafka://{bootstrap}?topic=bench-tracking", **options)
    fn.to_yaml(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per point, 2 rounds")
    parser.add_argument("--rounds", type=int, help="rounds (default 3, 2 with --quick)")
    parser.add_argument("--broker-anywhere", action="store_true", help="leave the broker unpinned")
    parser.add_argument("--flush-interval-ms", type=int, help="the tracked server's setting")
    parser.add_argument(
        "--stream", help="track to this stream_path instead (memory://x: no Kafka at all)"
    )
    parser.add_argument(
        "--untracked-twice",
        action="store_true",
        help="an A/A run: the second server untracked too (what the servers differ by alone)",
    )
    args = parser.parse_args()
    seconds, rounds = (2, 2) if args.quick else (5, 3)
    rounds = args.rounds or rounds
    wrk = generator()
    server_core, load_core = cores()
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp, KafkaBroker() as broker:
        if not args.broker_anywhere and broker.pid is not None:
            pin_all_threads(broker.pid, load_core)
        logs = Path(tmp)
        iris = prepare_iris(logs)
        options: dict[str, Any] = {}
        if args.flush_interval_ms:
            options["flush_interval_ms"] = args.flush_interval_ms
        tracked = tracked_yaml(
            logs / "tracked.yaml", iris.model_dir, broker.bootstrap, args.stream, **options
        )
        with (
            started(nuserve_command(iris.plain_yaml), logs / "off.log", server_core) as off,
            started(
                nuserve_command(iris.plain_yaml if args.untracked_twice else tracked),
                logs / "kafka.log",
                server_core,
            ) as kafka,
        ):
            ports = {"off": off, "kafka": kafka}
            runs = alternate_cpu(ports, seconds, rounds, wrk, broker.pid)
    results = {name: [run["rps"] for run in runs[name]] for name in runs}
    off_rps, on_rps = statistics.median(results["off"]), statistics.median(results["kafka"])
    generator_name = wrk or "bench/loadgen.py"
    where = "anywhere" if args.broker_anywhere else f"pinned to core {load_core}"
    print(
        f"load generator: {generator_name}; c={CONCURRENCY}, {rounds} rounds of {seconds} s; "
        f"broker on this machine, {where}; "
        f"tracking {'off in both (A/A)' if args.untracked_twice else args.stream or 'kafka'}, "
        f"{options or 'defaults'}; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'tracking':<22}{'req/s':>9}{'min-max':>15}{'cost':>8}"
        f"{'server µs/req':>15}{'broker µs/req':>15}"
    )
    off_cpu = statistics.median(run["cpu_us"] for run in runs["off"])
    for name, label, rps in (("off", "off", off_rps), ("kafka", "kafka, every request", on_rps)):
        low, high = min(results[name]), max(results[name])
        cost = (off_rps - rps) / off_rps * 100
        cpu = statistics.median(run["cpu_us"] for run in runs[name])
        broker_cpu = statistics.median(run["broker_us"] for run in runs[name])
        print(
            f"{label:<22}{rps:>9.0f}{f'{low:.0f}-{high:.0f}':>15}{cost:>7.1f}%"
            f"{cpu:>15.1f}{broker_cpu:>15.1f}"
        )
    on_cpu = statistics.median(run["cpu_us"] for run in runs["kafka"])
    print(
        f"tracking's CPU in the server: +{on_cpu - off_cpu:.1f} µs a request "
        f"({(on_cpu - off_cpu) / off_cpu * 100:.1f} % of the untracked request's)"
    )
    print(
        "req/s per round: "
        + "; ".join(f"{n} {', '.join(f'{r:.0f}' for r in results[n])}" for n in results)
    )


if __name__ == "__main__":
    main()
