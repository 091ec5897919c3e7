"""Tumbling windows: alignment, closing by the stream's clock, late records, aggregates."""

from __future__ import annotations

import numpy as np
import pytest

from nuserve.monitoring import MonitorConfig, Reference
from nuserve.monitoring.config import window_name
from nuserve.monitoring.windows import Windows
from tests.unit.monitoring.records import record


def add(windows: Windows, when: float, **kw) -> None:
    windows.add("e", when, record(when, **kw), None, None, 0, [])


def test_windows_tile_time_from_the_epoch_and_close_after_grace() -> None:
    windows = Windows(MonitorConfig(windows=(2.0, 10.0), grace_s=0.5))
    for when in (100.1, 101.9, 102.0, 109.0):
        add(windows, when)
    assert sorted((k[1], k[2]) for k in windows.open) == [
        (2.0, 100.0), (2.0, 102.0), (2.0, 108.0), (10.0, 100.0)
    ]  # fmt: skip
    assert windows.close_due(102.4) == []  # 100-102 waits for its grace
    closed = windows.close_due(102.5)
    assert [(w.length, w.start, w.requests) for w in closed] == [(2.0, 100.0, 2)]
    assert closed[0].end == 102.0
    assert [(w.length, w.start) for w in windows.close_all()] == [
        (10.0, 100.0), (2.0, 102.0), (2.0, 108.0)
    ]  # fmt: skip


def test_late_records_are_counted_not_added() -> None:
    windows = Windows(MonitorConfig(windows=(2.0,), grace_s=0.0))
    add(windows, 100.0)
    windows.close_due(103.0)
    add(windows, 101.0)
    assert windows.late == 1 and not windows.open


def test_aggregates() -> None:
    config = MonitorConfig(windows=(60.0,), max_latencies=50, max_prediction_values=2)
    windows = Windows(config)
    binning = Reference.from_stats({"a": {"hist": [[1, 1], [0, 1, 2]]}}).binning
    for i in range(100):
        error = "boom" if i % 10 == 0 else None
        windows.add(
            "e", 0.0, record(0.0, microsec=i + 1, error=error, metrics={"acc": i, "s": "x"}),
            np.array([[1, 0]]), binning, 2, [i % 3],
        )  # fmt: skip
    (summary,) = windows.close_all()
    assert (summary.requests, summary.errors, summary.error_rate) == (100, 10, 0.1)
    assert summary.rows == 200 and summary.counts == {"a": [100, 0]}
    assert summary.predictions == {"0": 34, "1": 33, "other": 33}
    assert summary.metrics == {"acc": pytest.approx(49.5)}
    assert 1 <= summary.p50 <= summary.p90 <= summary.p99 <= 100  # from a 50-value sample


def test_exact_percentiles() -> None:
    windows = Windows(MonitorConfig(windows=(60.0,)))
    for latency in range(1, 101):
        add(windows, 0.0, microsec=latency)
    (summary,) = windows.close_all()
    assert (summary.p50, summary.p90, summary.p99) == pytest.approx((50.5, 90.1, 99.01))


@pytest.mark.parametrize(
    ("seconds", "name"), [(600, "10m"), (3600, "1h"), (2, "2s"), (90, "90s"), (86400, "1d")]
)
def test_window_names(seconds, name) -> None:
    assert window_name(seconds) == name
