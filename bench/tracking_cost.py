"""What Kafka tracking costs the mock server: ``server.test()`` throughput, tracking off vs on.

Echo model, MLRun rows body, in-process (``to_mock_server``), tracking to a real Apache Kafka
broker started from ``tests/kafka/broker.py``. Each configuration runs ``RUNS`` times,
interleaved with the others so machine drift hits all alike; the table shows medians.

- ``serve µs``: wall time per request of the request loop alone (what a caller waits).
- ``e2e µs``: wall time until every record was also acknowledged by the broker.
- ``cpu µs``: CPU time of this process (request thread, tracking sender, librdkafka's
  threads) per request over the same span: the cost least disturbed by other processes on
  the machine. The broker's own CPU is not in it (in production it runs elsewhere).
- ``path µs``: CPU time of the request thread alone (``time.thread_time``): what tracking
  adds to the request path itself, the sender's work left out.
- ``dropped``: records dropped because the queue filled faster than the sender drained it
  (``queue_size`` is 100,000 here so that a run fits).

Run: ``python bench/tracking_cost.py [--quick] [requests per run]`` (about 40 s, 25 s with
``--quick``; needs java, and the broker's jars from ``tests/kafka/broker.py fetch``).
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nuserve  # noqa: E402
from nuserve.tracking import tracking_settings  # noqa: E402
from tests.kafka.broker import KafkaBroker  # noqa: E402
from tests.models import Echo  # noqa: E402

logging.getLogger("nuserve.tracking").setLevel(logging.ERROR)  # drops are in the table
N = 30_000
QUICK_N = 10_000
RUNS = 3
QUEUE = {"queue_size": 100_000, "flush_interval_ms": 10}
"""A queue that holds a whole run: a record the queue drops is work not done (and not
measured); at 100k+ requests/s a broker pause of 100 ms fills the default 10,000. The short
flush interval keeps the sender's idle wake-up (100 ms by default) out of ``e2e``."""
CONFIGS: list[tuple[str, dict[str, Any] | None]] = [
    ("off", None),
    ("memory, every request", {"stream_path": "memory://bench", **QUEUE}),
    ("kafka, every request", QUEUE),
    ("kafka, batch=50", {"batch": 50, **QUEUE}),
    ("kafka, sample=10", {"sample": 10, **QUEUE}),
    ("kafka, sample=100", {"sample": 100, **QUEUE}),
]


def one_run(broker: KafkaBroker, settings: dict[str, Any] | None, n: int) -> dict[str, float]:
    fn = nuserve.new_function("bench")
    if settings is not None:
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        settings = {"stream_path": f"kafka://{broker.bootstrap}?topic={topic}", **settings}
        fn.spec.tracking = tracking_settings(**settings)
    fn.add_model("echo", class_name=Echo)
    server = fn.to_mock_server()
    tracker = server.tracker
    body = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}
    test = server.test
    for _ in range(200):  # warm up: topic metadata, connections, caches
        test("/v2/models/echo/infer", body)
    if tracker is not None:
        tracker.wait_sent(30)  # type: ignore[attr-defined]
        before = tracker.stats()
    start, cpu, path = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(n):
        test("/v2/models/echo/infer", body)
    loop = time.perf_counter() - start
    path = time.thread_time() - path
    dropped = 0
    if tracker is not None:
        tracker.wait_sent(60)  # type: ignore[attr-defined]
        dropped = tracker.stats()["dropped"] - before["dropped"]
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    server.close()
    return {
        "serve": loop / n * 1e6,
        "e2e": total / n * 1e6,
        "cpu": cpu / n * 1e6,
        "path": path / n * 1e6,
        "dropped": dropped,
    }


def main(n: int = N, runs: int = RUNS) -> dict[str, dict[str, float]]:
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in CONFIGS}
    began = time.perf_counter()
    with KafkaBroker() as broker:
        for _ in range(runs):
            for name, settings in CONFIGS:
                results[name].append(one_run(broker, settings, n))
    medians = {
        name: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for name, rows in results.items()
    }
    base = medians["off"]
    print(f"{n} requests per run, median of {runs} runs ({time.perf_counter() - began:.0f} s)")
    keys = ("serve", "e2e", "cpu", "path")
    head = "".join(f"{k + ' µs':>10}{'cost':>8}" for k in keys)
    print(f"{'tracking':<24}{head}{'dropped':>9}")
    for name, m in medians.items():
        cells = "".join(f"{m[k]:>10.2f}{m[k] / base[k] - 1:>8.1%}" for k in keys)
        print(f"{name:<24}{cells}{m['dropped']:>9.0f}")
    return medians


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    quick = len(args) < len(sys.argv) - 1
    main(int(args[0]) if args else (QUICK_N if quick else N))
