"""``Metrics`` counted from several threads at once (HTTP on the loop thread, gRPC in grpcio's
threads): no count lost, no series made twice, snapshots taken meanwhile never fail."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from nuserve.serve.metrics import Metrics

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
    start = threading.Barrier(THREADS + 1)

    def count() -> None:
        start.wait()
        try:
            for i in range(CALLS):
                metrics.series(paths[i % len(paths)]).observe(200 if i % 3 else 500, 0.001)
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
    series = metrics.series("/v2/models/m/infer")
    assert series.requests == sum(series.buckets) == (THREADS - 1) * CALLS
