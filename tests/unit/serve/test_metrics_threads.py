"""``Metrics`` counted from several threads at once (gRPC in grpcio's threads, into the
worker's ``for_threads`` counters, HTTP on the loop thread into its own): no count lost, no
series made twice, snapshots taken meanwhile never fail, and the two add up."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from nuserve.serve.metrics import LockedSeries, Metrics, Series, render

THREADS = 6
CALLS = 3000
MODELS = 200


@pytest.fixture(autouse=True)
def switch_often() -> Iterator[None]:
    """Switch threads every microsecond, so the races show within a few thousand calls."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def hammer(metrics: Metrics, paths: list[str], errors: list[BaseException]) -> None:
    """``THREADS - 1`` threads count into ``metrics.for_threads()`` while one reads
    ``metrics``' snapshots and totals (as the loop does)."""
    start = threading.Barrier(THREADS + 1)
    threaded = metrics.for_threads()

    def count() -> None:
        start.wait()
        try:
            for i in range(CALLS):
                threaded.series(paths[i % len(paths)]).observe(200 if i % 3 else 500, 0.001)
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        start.wait()
        try:
            for _ in range(200):
                metrics.snapshot()
                metrics.total()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=count) for _ in range(THREADS - 1)]
    threads.append(threading.Thread(target=read))
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join()


def test_threads_counting_new_series_lose_nothing() -> None:
    metrics = Metrics(pid=1, models={f"m{i}": () for i in range(MODELS)})
    paths = [f"/v2/models/m{i}/infer" for i in range(MODELS)]
    errors: list[BaseException] = []
    hammer(metrics, paths, errors)
    assert errors == []
    counted = (THREADS - 1) * CALLS
    assert metrics.total() == counted
    rows = metrics.snapshot()["series"]
    assert len(rows) == MODELS  # one series per model, none made twice
    assert sum(row[2] for row in rows) == counted
    assert sum(sum(row[5]) for row in rows) == counted  # every call in a bucket
    assert sum(row[3] for row in rows) == (THREADS - 1) * sum(1 for i in range(CALLS) if i % 3 == 0)


def test_threads_counting_one_series_lose_nothing() -> None:
    metrics = Metrics(pid=1, models={"m": ()})
    errors: list[BaseException] = []
    hammer(metrics, ["/v2/models/m/infer"], errors)
    assert errors == []
    series = metrics.for_threads().series("/v2/models/m/infer")
    assert series.requests == sum(series.buckets) == (THREADS - 1) * CALLS
    assert metrics.series("/v2/models/m/infer").requests == 0  # the loop's: counted nothing


def test_the_loop_counts_without_a_lock_and_the_threads_counts_add_up() -> None:
    metrics = Metrics(pid=1, models={"m": (), "n": ()})
    threaded = metrics.for_threads()
    assert metrics.for_threads() is threaded and threaded.for_threads() is threaded
    loop_series = metrics.series("/v2/models/m/infer")
    assert type(loop_series) is Series  # HTTP's hot path: no lock taken
    assert type(threaded.series("/v2/models/m/infer")) is LockedSeries
    for _ in range(3):
        loop_series.observe(200, 0.001)
    metrics.series("/v2/models/n/infer").observe(404, 0.001)  # HTTP only
    threaded.series("/v2/models/m/infer").observe(500, 0.2)
    threaded.series("/v2/models/m/infer").observe(200, 0.001)
    threaded.series("/v2/models/m/ready").observe(200, 0.0)  # gRPC only
    assert metrics.total() == 7
    rows = {(r[0], r[1]): r[2:] for r in metrics.snapshot()["series"]}
    assert len(rows) == 3  # one row per (model, op): the two counts merged
    assert rows["m", "infer"][:2] == [5, 1]
    assert sum(rows["m", "infer"][3]) == 5
    assert rows["n", "infer"][:2] == [1, 1] and rows["m", "ready"][0] == 1
    text = render([metrics.snapshot()])
    assert 'nuserve_requests_total{model="m",op="infer"} 5' in text
    assert 'nuserve_request_errors_total{model="m",op="infer"} 1' in text
    assert 'nuserve_request_duration_seconds_count{model="m",op="infer"} 5' in text
    metrics.set_models({"k": ()})  # a new graph: the threads' counters learn it too
    assert threaded.series("/v2/models/k/infer").labels == ("k", "infer")
