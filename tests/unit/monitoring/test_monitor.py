"""The Monitor on records in wire.md's format, with a fake clock, on both store backends."""

from __future__ import annotations

import numpy as np

from nuserve.monitoring import DRIFT_DETECTED, NO_DATA, NO_DRIFT, Alerter, Monitor, MonitorConfig
from nuserve.tracking.sinks import MemorySink
from tests.unit.monitoring.records import record

CONFIG = MonitorConfig(windows=(10.0,), grace_s=1.0, idle_close_s=5.0, min_samples=100)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def traffic(monitor: Monitor, iris, start: float, shift: float = 0.0, n: int = 60, **kw) -> None:
    rng = np.random.default_rng(3)
    for i in range(n):
        rows = iris[rng.integers(0, len(iris), 10)].copy()
        rows[:, 2] += shift
        monitor.feed(record(start + i * 0.1, rows.tolist(), [0] * 10, microsec=1000 + i, **kw))


def test_training_traffic_is_no_drift(store, iris, reference) -> None:
    clock = Clock(1000.0)
    monitor = Monitor(store, CONFIG, {"": reference}, clock=clock)
    traffic(monitor, iris, 1000.0)
    assert monitor.advance() == 0  # the window 1000-1010 is still open
    clock.now = 1011.0
    monitor.feed(record(1011.0, [[5.1, 3.5, 1.4, 0.2]], [0]))  # the stream's clock moves on
    assert monitor.advance() == 1
    (endpoint,) = store.endpoints()
    assert endpoint["status"] == NO_DRIFT and endpoint["drifted"] == []
    assert endpoint["reference"]["petal_length"]["hist"][0] == list(reference.features[2].counts)
    (window,) = store.windows("fn-iris", 10.0)
    assert (window["requests"], window["row_count"], window["errors"]) == (60, 600, 0)
    assert window["general_drift"] < 0.5 and window["predictions"] == {"0": 600}
    assert window["p50"] == 1029.5
    assert len(store.drift("fn-iris", 10.0, 1000.0)) == 4
    assert store.alerts() == []


def test_shifted_petal_length_drifts_and_alerts(store, iris, reference) -> None:
    sink = MemorySink.named("test-monitor-alerts")
    alerter = Alerter("memory://test-monitor-alerts")
    clock = Clock(2000.0)
    monitor = Monitor(store, CONFIG, {"iris": reference}, alerter, clock)
    traffic(monitor, iris, 2000.0, shift=2 * iris[:, 2].std(ddof=1))
    clock.now = 2020.0  # no record for 5 s: the wall clock closes the window
    assert monitor.advance() == 1
    alerter.close()
    (endpoint,) = store.endpoints()
    assert (endpoint["status"], endpoint["drifted"]) == (DRIFT_DETECTED, ["petal_length"])
    drift = {d["feature"]: d for d in store.drift("fn-iris", 10.0, 2000.0)}
    assert drift["petal_length"]["status"] == DRIFT_DETECTED
    assert drift["sepal_length"]["status"] == NO_DRIFT
    (alert,) = store.alerts()
    assert alert["kind"] == "drift" and alert["details"]["features"] == ["petal_length"]
    assert "drift detected on iris: petal_length 0." in alert["message"]
    assert [r["alert_id"] for r in sink.records()] == [alert["alert_id"]]
    MemorySink.forget("test-monitor-alerts")


def test_error_rate_alert_and_no_reference(store) -> None:
    clock = Clock(0.0)
    monitor = Monitor(store, CONFIG, clock=clock)
    for i in range(20):
        monitor.feed(
            record(float(i) / 10, [[1, 2]], None, error="ValueError: x" if i % 2 else None)
        )
    assert monitor.flush() == 1
    (window,) = store.windows("fn-iris", 10.0)
    assert (window["errors"], window["status"], window["general_drift"]) == (10, NO_DATA, None)
    (alert,) = store.alerts()
    assert alert["kind"] == "error_rate" and alert["value"] == 0.5
    assert alert["message"] == "error rate 50.0% on iris over 20 requests (threshold 10.0%)"


def test_bad_records_late_records_and_stats(store, reference) -> None:
    clock = Clock(100.0)
    monitor = Monitor(store, CONFIG, {"": reference}, clock=clock)
    for bad in (None, [], {"model": ""}, {"no": "model"}):
        assert monitor.feed(bad) is False
    good = record(100.0, None, None)
    del good["endpoint_id"]  # computed like the tracker does
    good["when"] = "not a time"
    assert monitor.feed(good)
    monitor.feed(record(100.0, [[1, 2, 3, 4]], [1], model="other"))
    clock.now = 200.0
    monitor.advance()
    monitor.feed(record(101.0, None, None, model="other"))
    stats = monitor.stats()
    assert stats == {"records": 3, "bad": 4, "windows": 2, "alerts": 0, "late": 1, "open": 0}
    assert {e["model"] for e in store.endpoints()} == {"iris", "other"}
