"""The dashboard's routes (HTML, JSON API, /metrics), on both store backends, and its server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np
import pytest

from nuserve.monitoring import Dashboard, Monitor, MonitorConfig
from nuserve.monitoring.dashboard.charts import bar_chart, histogram_pair, line_chart
from nuserve.monitoring.dashboard.server import route
from tests.unit.monitoring.records import record

EID = "fn-iris"


@pytest.fixture
def filled(store, iris, reference):
    """Two windows of iris traffic, the second with petal length shifted."""
    config = MonitorConfig(windows=(10.0,), grace_s=0.0, min_samples=50)
    monitor = Monitor(store, config, {"": reference}, clock=lambda: 1e9)
    rng = np.random.default_rng(1)
    for start, shift in ((1000.0, 0.0), (1010.0, 3.5)):
        for i in range(20):
            rows = iris[rng.integers(0, 150, 10)].copy()
            rows[:, 2] += shift
            monitor.feed(record(start + i * 0.2, rows.tolist(), [1] * 10, microsec=2000 + i,
                                error="E" if i == 0 else None))  # fmt: skip
    monitor.flush()
    return store


def get(store, path):
    status, kind, body = route(store, path)
    return status, kind, body.decode()


def test_json_api(filled) -> None:
    status, kind, body = get(filled, "/api/endpoints")
    (endpoint,) = json.loads(body)
    assert (status, kind) == (200, "application/json")
    assert endpoint["endpoint_id"] == EID and endpoint["status"] == "DRIFT_DETECTED"
    detail = json.loads(get(filled, f"/api/endpoints/{EID}")[2])
    assert detail["window"] == "10s" and len(detail["series"]) == 2
    assert detail["series"][0]["throughput"] == 2.0 and detail["series"][0]["errors"] == 1
    assert detail["alerts"][0]["kind"] == "drift"
    drift = json.loads(get(filled, f"/api/endpoints/{EID}/drift?window=10s")[2])
    assert [f["feature"] for f in drift["features"]] == [
        "sepal_length", "sepal_width", "petal_length", "petal_width"
    ]  # fmt: skip
    petal = drift["features"][2]
    assert petal["status"] == "DRIFT_DETECTED" and len(petal["edges"]) == 21
    assert sum(petal["reference"]) == pytest.approx(1) and sum(petal["current"]) == pytest.approx(1)
    assert json.loads(get(filled, "/api/alerts")[2])[0]["endpoint_id"] == EID


def test_html_pages(filled) -> None:
    status, kind, index = get(filled, "/")
    assert status == 200 and kind.startswith("text/html")
    assert "iris" in index and "drift detected" in index and "petal_length" in index
    status, _, page = get(filled, f"/endpoints/{EID}")
    assert status == 200
    assert page.count("<svg") >= 4 + 4  # 4 charts, 4 histogram pairs
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "petal_length" in page and "drift detected on iris: petal_length" in page


def test_metrics(filled) -> None:
    status, kind, text = get(filled, "/metrics")
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    labels = f'endpoint_id="{EID}",model="iris",version="latest"'
    assert f"nuserve_monitor_drift_status{{{labels}}} 2" in text
    assert f'nuserve_monitor_feature_drift{{{labels},feature="petal_length",metric="tvd"}}' in text
    assert "# TYPE nuserve_monitor_general_drift gauge" in text


def test_not_found(filled) -> None:
    assert get(filled, "/api/endpoints/nope")[0] == 404
    assert "no endpoint 'nope'" in get(filled, "/api/endpoints/nope/drift")[2]
    assert get(filled, f"/api/endpoints/{EID}/other")[0] == 404
    assert get(filled, "/endpoints/nope")[0] == 404
    assert get(filled, "/what")[0] == 404
    assert get(filled, "/health") == (200, "text/plain", "ok")


def test_empty_store_pages(store) -> None:
    assert "no endpoint has sent records yet" in get(store, "/")[2]
    assert json.loads(get(store, "/api/endpoints")[2]) == []


def test_server_binds_loopback_and_serves(filled) -> None:
    dashboard = Dashboard(filled, port=0).start()
    try:
        assert dashboard.host == "127.0.0.1"
        with urllib.request.urlopen(f"{dashboard.url}/api/endpoints", timeout=5) as answer:
            assert json.loads(answer.read())[0]["model"] == "iris"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{dashboard.url}/nope", timeout=5)
        caught.value.close()
        assert caught.value.code == 404
    finally:
        dashboard.stop()


def test_charts_escape_and_handle_no_data() -> None:
    assert "no data yet" in line_chart({"a": []}, "t<")
    assert "t&lt;" in line_chart({"a": [(0.0, 1.0)]}, "t<")
    assert "<circle" in line_chart({"a": [(0.0, 1.0), (1.0, None)]}, "t")
    assert "no histogram" in histogram_pair([], [], [])
    assert "&lt;b&gt;" in bar_chart({"<b>": 3}, "p")


def test_the_open_window_is_shown_with_when_it_closes(store, iris, reference) -> None:
    """With the default windows (10 min, 1 h) the page said "no data" for ten minutes after
    the first requests, and nothing said why or until when."""
    from nuserve.monitoring.runner import MonitorRunner

    now = 600 * 1_666_667 + 200.0  # 200 s into a 10-minute window
    dashboard = Dashboard(store, port=0)
    runner = MonitorRunner(None, store, {"": reference}, MonitorConfig(), dashboard)
    runner.monitor.clock = lambda: now
    for i in range(5):
        runner.monitor.feed(record(now - 10 + i, iris[:2].tolist(), [0, 1], microsec=3000))
    assert runner.monitor.advance() == 0  # nothing closed: both windows are open
    dashboard.start()
    try:
        with urllib.request.urlopen(f"{dashboard.url}/api/endpoints/{EID}", timeout=5) as answer:
            detail = json.loads(answer.read())
        with urllib.request.urlopen(f"{dashboard.url}/endpoints/{EID}", timeout=5) as answer:
            html = answer.read().decode()
        with urllib.request.urlopen(f"{dashboard.url}/", timeout=5) as answer:
            index = answer.read().decode()
    finally:
        dashboard.stop()
    assert detail["series"] == []
    ten, hour = detail["open_windows"]
    assert (ten["window"], ten["requests"], ten["errors"]) == ("10m", 5, 0)
    assert (ten["start_time"], ten["end_time"]) == (now - 200, now + 400)
    assert ten["closes_at"] == ten["end_time"] + MonitorConfig().grace_s
    assert ten["p50"] == 3000.0
    assert hour["window"] == "1h" and hour["requests"] == 5
    assert "open windows (still filling)" in html
    assert "no 10m window has closed yet" in html
    assert "5 request(s) in 10m, closes " in index
