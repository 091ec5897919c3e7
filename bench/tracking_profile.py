"""Where Kafka tracking's cost goes, in process: nuserve's ASGI app (iris), tracking off vs on.

Each configuration sends ``N`` requests through ``App(scope, receive, send)`` (no HTTP), to a
real broker from ``tests/kafka/broker.py``. Per request:

- ``path µs``: CPU of the event-loop thread (``time.thread_time``): the request path alone;
- ``cpu µs``: CPU of the whole process (request path, sender thread, librdkafka's threads)
  until every record was acknowledged;
- ``broker µs``: CPU the broker's JVM spent over the same span (on this machine it shares the
  cores with the server).

Configurations run in turn, ``RUNS`` times, interleaved; medians. ``--profile`` adds a
cProfile of the request path with tracking on (its top functions by own time).

Run: ``python bench/tracking_profile.py [--quick] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from servers import BODY, INFER, prepare_iris  # noqa: E402
from tracking_http import tracked_yaml  # noqa: E402

from nuserve.serve.app import App  # noqa: E402
from nuserve.serve.config import ServeConfig  # noqa: E402
from tests.kafka.broker import KafkaBroker  # noqa: E402

RUNS = 3
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": INFER,
    "raw_path": INFER.encode(),
    "query_string": b"",
    "headers": HEADERS,
    "server": ("127.0.0.1", 8080),
    "client": ("127.0.0.1", 50000),
}
MESSAGE = {"type": "http.request", "body": BODY, "more_body": False}


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def lifespan(app: App) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(from_app.get(), 60)
    assert started["type"] == "lifespan.startup.complete", started
    return to_app, task


async def requests(app: App, n: int) -> None:
    async def receive() -> dict[str, Any]:
        return MESSAGE

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    for _ in range(n):
        await app(SCOPE, receive, send)
    assert statuses == [200] * n, statuses[:3]


def one_run(spec: Path, n: int, broker_pid: int | None, profile: bool) -> dict[str, float]:
    async def main() -> dict[str, float]:
        app = App(ServeConfig(spec_path=str(spec)))
        to_app, task = await lifespan(app)
        await requests(app, 300)  # warm: the first records, the producer's connection
        tracker = app.context.user_data.server.tracker
        if tracker is not None:
            assert await asyncio.to_thread(tracker.wait_sent, 30)
        profiler = cProfile.Profile() if profile else None
        cpu0, thread0 = time.process_time(), time.thread_time()
        broker0 = proc_cpu(broker_pid) if broker_pid else 0.0
        if profiler is not None:
            profiler.enable()
        await requests(app, n)
        if profiler is not None:
            profiler.disable()
        thread1 = time.thread_time()
        if tracker is not None:
            assert await asyncio.to_thread(tracker.wait_sent, 60)
            assert tracker.stats()["dropped"] == 0, tracker.stats()
        cpu1 = time.process_time()
        broker1 = proc_cpu(broker_pid) if broker_pid else 0.0
        await to_app.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(task, 30)
        if profiler is not None:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
            print(out.getvalue())
        return {
            "path": (thread1 - thread0) / n * 1e6,
            "cpu": (cpu1 - cpu0) / n * 1e6,
            "broker": (broker1 - broker0) / n * 1e6,
        }

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 requests a run")
    parser.add_argument("--profile", action="store_true", help="cProfile the tracked path")
    args = parser.parse_args()
    n = 5_000 if args.quick else 20_000
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp, KafkaBroker() as broker:
        iris = prepare_iris(Path(tmp))
        specs = {
            "off": iris.plain_yaml,
            "kafka": tracked_yaml(Path(tmp) / "tracked.yaml", iris.model_dir, broker.bootstrap),
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in specs}
        for round_ in range(RUNS):
            for name, spec in list(specs.items())[:: -1 if round_ % 2 else 1]:
                runs[name].append(one_run(spec, n, broker.pid, False))
        if args.profile:
            one_run(specs["kafka"], n, broker.pid, True)
    print(f"{n} requests a run, median of {RUNS} runs; load {os.getloadavg()[0]:.2f}")
    print(f"{'tracking':<10}{'path µs':>10}{'cpu µs':>10}{'broker µs':>11}")
    off = {key: statistics.median(r[key] for r in runs["off"]) for key in ("path", "cpu")}
    for name, results in runs.items():
        row = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(f"{name:<10}{row['path']:>10.1f}{row['cpu']:>10.1f}{row['broker']:>11.1f}")
    on = {key: statistics.median(r[key] for r in runs["kafka"]) for key in ("path", "cpu")}
    print(
        f"tracking's own: path +{on['path'] - off['path']:.1f} µs, "
        f"process +{on['cpu'] - off['cpu']:.1f} µs a request"
    )


if __name__ == "__main__":
    main()
