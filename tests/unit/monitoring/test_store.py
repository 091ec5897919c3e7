"""The store's contract, run on SQLite and on PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import pytest

from nuserve.errors import ConfigError
from nuserve.monitoring import open_store
from nuserve.monitoring.store import EndpointInfo

INFO = EndpointInfo("e1", "fn", "iris", "v1", "IrisClassifier", {"team": "a"})


def window(start: float, **extra) -> dict:
    row = {
        "endpoint_id": "e1", "window_s": 60.0, "start_time": start, "requests": 10,
        "errors": 1, "error_rate": 0.1, "p50": 1.0, "p90": 2.0, "p99": 3.0, "row_count": 10,
        "predictions": {"0": 10}, "general_drift": 0.2, "tvd_mean": 0.1,
        "hellinger_mean": 0.3, "kl_mean": 1.5, "general_status": "NO_DRIFT",
        "status": "NO_DRIFT",
    }  # fmt: skip
    row.update(extra)
    return row


DRIFT = [{"feature": "x", "tvd": 0.1, "hellinger": 0.2, "kl": 0.3, "value": 0.15,
          "status": "NO_DRIFT", "current_counts": [1, 2]}]  # fmt: skip


def test_endpoint_roundtrip_and_refresh(store) -> None:
    store.save_endpoint(INFO, {"x": {"hist": [[1], [0, 1]]}}, 100.0)
    store.set_status("e1", "DRIFT_DETECTED", 0.8, 0.05, ["x"], 160.0)
    store.save_endpoint(INFO, {}, 200.0)  # seen again: header refreshed, status kept
    (row,) = store.endpoints()
    assert row["labels"] == {"team": "a"} and row["reference"] == {}
    assert (row["first_seen"], row["last_seen"]) == (100.0, 200.0)
    assert (row["status"], row["general_drift"], row["drifted"]) == ("DRIFT_DETECTED", 0.8, ["x"])
    assert store.endpoint("e1")["model"] == "iris"
    assert store.endpoint("nope") is None


def test_windows_drift_metrics_upsert(store) -> None:
    store.save_endpoint(INFO, {}, 0.0)
    store.save_window(window(0.0), DRIFT, {"acc": 0.9})
    store.save_window(window(0.0, requests=20), DRIFT, {"acc": 0.8})  # replayed: rewritten
    store.save_window(window(60.0, general_drift=None), [], {})
    assert store.window_lengths("e1") == [60.0]
    rows = store.windows("e1", 60.0)
    assert [(r["start_time"], r["requests"]) for r in rows] == [(0.0, 20), (60.0, 10)]
    assert rows[0]["predictions"] == {"0": 10} and rows[1]["general_drift"] is None
    assert store.windows("e1", 60.0, limit=1)[0]["start_time"] == 60.0
    (drift,) = store.drift("e1", 60.0, 0.0)
    assert drift["current_counts"] == [1, 2] and drift["kl"] == 0.3
    assert store.metrics("e1", 60.0, 0.0) == {"acc": 0.8}


def test_alerts_and_retention(store) -> None:
    store.save_endpoint(INFO, {}, 0.0)
    for start in (0.0, 1000.0):
        store.save_window(window(start), DRIFT, {"acc": 1.0})
        alert = {"alert_id": f"a{start:g}", "endpoint_id": "e1", "created": start, "kind": "drift",
                 "message": "m", "value": 0.9, "details": {"features": ["x"]}}  # fmt: skip
        store.save_alert(alert)
    assert [a["alert_id"] for a in store.alerts()] == ["a1000", "a0"]
    assert store.alerts("e1", limit=1)[0]["details"] == {"features": ["x"]}
    assert store.alerts("other") == []
    assert store.purge(500.0) == 4  # one window, its drift row, its metric, one alert
    assert [w["start_time"] for w in store.windows("e1", 60.0)] == [1000.0]
    assert len(store.alerts()) == 1 and store.endpoints()


def test_open_store_urls(tmp_path) -> None:
    plain = open_store(str(tmp_path / "a" / "m.db"))
    plain.close()
    assert (tmp_path / "a" / "m.db").exists()
    open_store("sqlite://:memory:").close()
    with pytest.raises(ConfigError, match="unknown scheme 'mysql'"):
        open_store("mysql://x/y")
    with pytest.raises(ConfigError, match="needs a host and a database"):
        open_store("postgresql://user@127.0.0.1:1/")
    with pytest.raises(ConfigError, match="cannot connect to the store postgresql://u:\\*\\*\\*@"):
        open_store("postgresql://u:secret@127.0.0.1:1/db")
