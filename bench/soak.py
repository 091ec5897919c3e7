"""Soak: ``nuserve serve --workers 2`` with Kafka tracking at concurrency 64 for 10 minutes.

A benchmark script, not a CI test (issue 9, item 5). In one run, on 127.0.0.1 only:

1. A real Kafka broker (``tests/kafka/broker.py``) and the iris model, freshly trained.
2. The floor: the same function without tracking, same workers and load, for ``--floor``
   seconds (after 2 s of warm-up), then stopped.
3. The soak: the function tracking every request to a fresh topic, loaded for ``--duration``
   seconds by ``soak_load.py`` (each request carries its own ``X-Request-Id``). Every
   ``--interval`` seconds a line: answers, req/s and p99 of the interval, errors, VmRSS of the
   supervisor and each worker, tracking counters from ``/metrics``. The RSS baseline is the
   sample at the end of ``--warmup``.
4. Load stopped, tracking drained (bounded wait on ``/metrics``), the topic read back and
   matched to the 200 answers by request id; the server stopped (SIGTERM) and its log read.

The verdict: no non-model errors (every answer 2xx, no connection error), VmRSS growth under
10 % after warm-up (at the end and at its highest), every 200 answer's record in the topic.
Everything started here (broker, servers) is stopped on exit, Ctrl-C and SIGTERM included.

Run: ``python bench/soak.py [--duration 600] [--warmup 60] [--concurrency 64] [--workers 2]
[--interval 10] [--floor 20] [--write-results]``; ``--write-results`` replaces the "Soak"
section of ``bench/RESULTS.md`` with this run's report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import soak_load
import soak_metrics
import soak_procs
import soak_topic
import uvloop
from servers import (
    BODY,
    HOST,
    INFER,
    IRIS_CODE,
    free_port,
    nuserve_command,
    prepare_iris,
    start,
    stop,
    wait_for_200,
    write_iris_yaml,
)
from soak_report import (
    Floor,
    Options,
    Sample,
    Soak,
    criteria_table,
    report,
    sample_line,
    write_results,
)

import nuserve
from tests.kafka.broker import KafkaBroker

FLOOR_WARM_S = 2.0
START_TIMEOUT_S = 90.0
SCRAPE_TIMEOUT_S = 5.0


def parse_options(argv: list[str] | None = None) -> tuple[Options, bool]:
    """The flags as ``Options``, and whether to write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before baseline")
    parser.add_argument("--concurrency", type=int, default=64, help="connections")
    parser.add_argument("--workers", type=int, default=2, help="nuserve serve --workers")
    parser.add_argument("--interval", type=float, default=10, help="seconds per sample")
    parser.add_argument("--floor", type=float, default=20, help="seconds of the floor run")
    parser.add_argument("--drain-timeout", type=float, default=60, help="seconds at most")
    parser.add_argument("--read-timeout", type=float, default=180, help="topic, seconds")
    parser.add_argument("--write-results", action="store_true", help="update RESULTS.md")
    args = parser.parse_args(argv)
    if not 0 < args.warmup < args.duration:
        parser.error(f"--warmup must be in (0, --duration) (got {args.warmup})")
    if args.concurrency < 1 or args.workers < 1 or args.interval <= 0 or args.floor <= 0:
        parser.error("--concurrency and --workers must be ≥ 1; --interval, --floor > 0")
    options = Options(
        args.duration,
        args.warmup,
        args.concurrency,
        args.workers,
        args.interval,
        args.floor,
        args.drain_timeout,
        args.read_timeout,
    )
    return options, args.write_results


def log(text: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ----- servers ---------------------------------------------------------------------------


def serve_command(function_yaml: Path, workers: int) -> list[str]:
    # argparse keeps the last --workers: this one wins over nuserve_command's "--workers 1"
    return [*nuserve_command(function_yaml), "--workers", str(workers)]


@contextlib.contextmanager
def serving(command: list[str], workers: int, log_file: Path) -> Iterator[tuple[int, Any]]:
    """Run ``command --port P`` until the block ends: yields ``(P, process)``; stops it.

    It yields once every worker is up: the first 200 comes from the first worker ready,
    and load before the others are would measure fewer workers.
    """
    port = free_port()
    process = start([*command, "--port", str(port)], log_file)
    try:
        try:
            began = time.monotonic()
            wait_for_200(port, process, START_TIMEOUT_S)
            wait_for_workers(port, workers, began + START_TIMEOUT_S)
        except (RuntimeError, TimeoutError) as exc:
            tail = log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{shlex.join(command)}: {exc}\n{tail}") from None
        yield port, process
    finally:
        stop(process)


def wait_for_workers(port: int, workers: int, deadline: float) -> None:
    """Until ``/metrics`` lists ``workers`` live workers (each publishes once started)."""
    seen: frozenset[int] = frozenset()
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            seen = soak_metrics.scrape(HOST, port, SCRAPE_TIMEOUT_S).workers
            if len(seen) >= workers:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{len(seen)} of {workers} workers up within {START_TIMEOUT_S} s")


def tracked_yaml(path: Path, model_dir: Path, bootstrap: str, topic: str) -> Path:
    """The floor's function (``servers.write_iris_yaml``), tracking every request to Kafka."""
    fn = nuserve.code_to_function("iris", filename=str(IRIS_CODE), kind="serving")
    fn.set_topology("router")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model_dir))
    fn.set_tracking(f"kafka://{bootstrap}?topic={topic}")
    fn.to_yaml(path)
    return path


def log_problems(log_file: Path, limit: int = 20) -> list[str]:
    """The server log's lines that say something went wrong (the first ``limit``)."""
    words = ("Traceback", "ERROR", "Error", "WARNING", "Exception", "killed", "died")
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError as exc:
        return [f"cannot read the server log: {exc}"]
    found = [line for line in lines if any(word in line for word in words)]
    more = [f"... and {len(found) - limit} more"] if len(found) > limit else []
    return found[:limit] + more


# ----- load ------------------------------------------------------------------------------


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop: a cheaper client leaves more CPU to the server on a small machine."""
    return uvloop.new_event_loop()


def target(port: int) -> soak_load.Target:
    return soak_load.Target(HOST, port, INFER, BODY)


def run_floor(port: int, options: Options) -> Floor:
    """``FLOOR_WARM_S`` of load left out of the figures, then ``options.floor`` seconds."""
    tally = soak_load.Tally(prefix="floor-")

    async def warm_then_measure() -> tuple[int, float]:
        never = asyncio.Event()
        await soak_load.run(target(port), tally, options.concurrency, FLOOR_WARM_S, never)
        start = len(tally.latencies)
        seconds = await soak_load.run(
            target(port), tally, options.concurrency, options.floor, never
        )
        return start, seconds

    with asyncio.Runner(loop_factory=new_loop) as runner:
        start, seconds = runner.run(warm_then_measure())
    return Floor(seconds, tally, start)


def schedule(options: Options) -> list[float]:
    """Sample times: 0, every interval, the end of the warm-up, the end."""
    times = {0.0, options.warmup, options.duration}
    step = 1
    while step * options.interval < options.duration:
        times.add(step * options.interval)
        step += 1
    return sorted(times)


async def soak(port: int, supervisor: int, options: Options, result: Soak) -> None:
    """The load and the sampler side by side; a dead server stops both early."""
    stop_event = asyncio.Event()
    load = soak_load.run(
        target(port), result.tally, options.concurrency, options.duration, stop_event
    )
    await asyncio.gather(load, sampler(port, supervisor, options, result, stop_event))


async def sampler(
    port: int, supervisor: int, options: Options, result: Soak, stop_event: asyncio.Event
) -> None:
    began = time.monotonic()
    for due in schedule(options):
        wait = began + due - time.monotonic()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), wait)
        if stop_event.is_set():
            return
        sample = await take_sample(port, supervisor, time.monotonic() - began, result)
        result.samples.append(sample)
        print(sample_line(sample, result), flush=True)
        if sample.memory is None:
            result.server_died = True
            stop_event.set()
            return


async def take_sample(port: int, supervisor: int, at: float, result: Soak) -> Sample:
    tally = result.tally
    memory = soak_procs.memory(supervisor)
    if memory is not None:
        result.workers_seen.update(memory.workers_kb)
    scrape: soak_metrics.Scrape | None = None
    try:
        scrape = await asyncio.to_thread(soak_metrics.scrape, HOST, port, SCRAPE_TIMEOUT_S)
    except (OSError, http.client.HTTPException) as exc:
        result.scrape_failures.append(f"{at:.0f} s: {type(exc).__name__}: {exc}")
    return Sample(
        at,
        tally.answers,
        len(tally.latencies),
        tally.failed_statuses,
        dict(tally.errors),
        memory,
        scrape,
    )


def drain(port: int, options: Options, result: Soak) -> None:
    """Wait until every worker's tracking queue is empty (two scrapes in a row), bounded."""
    began = time.monotonic()
    deadline = began + options.drain_timeout
    answered_ok = result.tally.states.count(soak_load.OK)
    in_a_row = 0
    while time.monotonic() < deadline:
        try:
            scrape = soak_metrics.scrape(HOST, port, SCRAPE_TIMEOUT_S)
        except (OSError, http.client.HTTPException) as exc:
            result.scrape_failures.append(f"drain: {type(exc).__name__}: {exc}")
            time.sleep(0.5)
            continue
        result.drained = scrape
        in_a_row = in_a_row + 1 if scrape.drained and scrape.tracked >= answered_ok else 0
        if in_a_row == 2:
            result.drain_s = time.monotonic() - began
            return
        time.sleep(1.1)  # the workers publish their counters once a second


def read_topic(bootstrap: str, topic: str, options: Options, result: Soak) -> None:
    tally = result.tally
    counts, foreign, records, complete = soak_topic.read_ids(
        bootstrap, topic, tally.prefix, len(tally.states), options.read_timeout
    )
    result.delivery = soak_topic.match(tally.states, counts, foreign, records, complete)


# ----- report ----------------------------------------------------------------------------


# ----- main ------------------------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    options, write = parse_options(argv)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _terminate)  # the finally blocks stop what we started
    topic = f"soak-{int(time.time())}"
    result = Soak(soak_load.Tally(prefix="soak-"))
    with tempfile.TemporaryDirectory(prefix="nuserve-soak-") as tmp:
        work = Path(tmp)
        log("training the iris model; starting the Kafka broker")
        iris = prepare_iris(work)
        plain = write_iris_yaml(work / "plain.yaml", iris.model_dir)
        with KafkaBroker() as broker:
            tracked = tracked_yaml(work / "tracked.yaml", iris.model_dir, broker.bootstrap, topic)
            log(f"floor: no tracking, {options.floor:.0f} s at c={options.concurrency}")
            floor_command = serve_command(plain, options.workers)
            with serving(floor_command, options.workers, work / "floor.log") as (port, _):
                floor = run_floor(port, options)
            log(f"soak: Kafka tracking to {topic}, {options.duration:.0f} s")
            server_log = work / "soak.log"
            command = serve_command(tracked, options.workers)
            with serving(command, options.workers, server_log) as (port, process):
                with asyncio.Runner(loop_factory=new_loop) as runner:
                    runner.run(soak(port, process.pid, options, result))
                log("load stopped; waiting for tracking to drain")
                drain(port, options, result)
                log("reading the tracking topic back")
                read_topic(broker.bootstrap, topic, options, result)
            result.exit_code = process.returncode
            result.log_problems = log_problems(server_log)
    text, found = report(options, floor, result, topic)
    table = criteria_table(found)
    print()
    print(text)
    print()
    print(table)
    if write:
        write_results(text, table, started)
    return 0 if all(c.met for c in found) else 1


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        log("interrupted; the broker and the servers it started are stopped")
        raise SystemExit(130) from None
