"""Per-worker counters and their sum over the live workers' snapshot files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from nuserve.serve import metrics
from nuserve.serve.metrics import Metrics, labels_for, read_snapshots, render


@pytest.mark.parametrize(
    ("path", "labels"),
    [
        ("/v2/models/m/infer", ("m", "infer")),
        ("/v2/models/m/versions/2/predict", ("m", "predict")),
        ("/v2/models/m/versions/2", ("m", "model")),
        ("/v2/models/m", ("m", "model")),
        ("/v2/models/m/a/b", ("m", "other")),
        ("/v2/models/infer", ("", "infer")),
        ("/v2/health/ready", ("", "health")),
        ("/v1/models/m:predict", ("m", "predict")),
        ("/", ("", "other")),
        ("/favicon.ico", ("", "other")),
    ],
)
def test_labels_from_paths(path: str, labels: tuple[str, str]) -> None:
    assert labels_for(path) == labels


def test_series_are_cached_per_path_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "MAX_SERIES", 3)
    counters = Metrics(models={name: () for name in "abcdef"})
    assert counters.series("/v2/models/a/infer") is counters.series("/v2/models/a/infer")
    for name in "bcdef":
        counters.series(f"/v2/models/{name}/infer").observe(200, 0.001)
    labels = {s.labels for s in counters._by_labels.values()}
    assert labels == {("a", "infer"), ("b", "infer"), ("c", "infer"), ("", "other")}
    assert counters.series("/v2/models/f/infer").requests == 3  # d, e and f


def test_only_served_models_and_their_operations_get_series() -> None:
    counters = Metrics(models={"m": ("describe",), "m:2": ()})
    for path in (
        "/v2/models/m/infer",
        "/v2/models/m/versions/2/describe",
        "/v2/models/m/nope",
        "/v2/models/zz/infer",
        "/v2/models/z\x00z/infer",
        "/v1/models/q:predict",
        "/v2/health/ready",
    ):
        counters.series(path).observe(404, 0.001)
    labels = sorted(s.labels for s in counters._by_labels.values())
    assert labels == [
        ("", "health"),
        ("m", "describe"),
        ("m", "infer"),
        ("m", "unknown"),
        ("unknown", "unknown"),
    ]
    assert counters.series("/v2/models/other/infer").requests == 3


def test_names_are_sanitised_for_labels() -> None:
    counters = Metrics(models={'a"b\x00c' + "x" * 100: ()})
    counters.series('/v2/models/a"b\x00c' + "x" * 100 + "/infer").observe(200, 0.1)
    ((model, op),) = [s.labels for s in counters._by_labels.values()]
    assert (model, op) == ("a_b_c" + "x" * 59, "infer")


def test_set_models_forgets_the_paths_seen_before() -> None:
    counters = Metrics()
    counters.series("/v2/models/m/infer").observe(200, 0.1)
    counters.set_models({"m": ()})
    counters.series("/v2/models/m/infer").observe(200, 0.1)
    assert sorted(s.labels for s in counters._by_labels.values()) == [
        ("m", "infer"),
        ("unknown", "unknown"),
    ]


def test_histogram_buckets_are_cumulative_and_le_inclusive() -> None:
    counters = Metrics(models={"m": ()})
    series = counters.series("/v2/models/m/infer")
    for seconds in (0.0005, 0.0007, 0.3, 20.0):
        series.observe(200, seconds)
    series.observe(503, 0.001)
    text = render([counters.snapshot()])
    line = 'nuserve_request_duration_seconds_bucket{model="m",op="infer",le="%s"} %d'
    assert line % ("0.0005", 1) in text
    assert line % ("0.001", 3) in text
    assert line % ("0.25", 3) in text
    assert line % ("0.5", 4) in text
    assert line % ("10.0", 4) in text
    assert line % ("+Inf", 5) in text
    assert 'nuserve_request_errors_total{model="m",op="infer"} 1' in text


def test_label_values_are_escaped() -> None:
    counters = Metrics()
    counters.labelled('a"b\\c', "infer").observe(200, 0.1)
    assert 'model="a\\"b\\\\c"' in render([counters.snapshot()])


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(10)
    return process.pid


def test_snapshots_of_live_workers_are_summed_and_dead_ones_dropped(tmp_path: Path) -> None:
    mine = Metrics(models={"m": ()})
    mine.inits = 1
    mine.series("/v2/models/m/infer").observe(200, 0.01)
    dead_pid = _dead_pid()
    dead = Metrics(pid=dead_pid, models={"m": ()})
    dead.series("/v2/models/m/infer").observe(200, 0.01)
    dead.write_snapshot(str(tmp_path))
    (tmp_path / "notes.json").write_text("{}")  # not a worker's file: ignored
    text = mine.render(str(tmp_path))
    assert 'nuserve_requests_total{model="m",op="infer"} 1' in text
    assert f'nuserve_worker_info{{pid="{os.getpid()}"}} 1' in text
    assert f'pid="{dead_pid}"' not in text
    assert not (tmp_path / f"{dead_pid}.json").exists()

    other = {**orjson.loads((tmp_path / f"{os.getpid()}.json").read_bytes()), "pid": os.getppid()}
    (tmp_path / f"{os.getppid()}.json").write_bytes(orjson.dumps(other))
    snapshots = read_snapshots(str(tmp_path))
    assert sorted(s["pid"] for s in snapshots) == sorted([os.getpid(), os.getppid()])
    text = render(snapshots)
    assert 'nuserve_requests_total{model="m",op="infer"} 2' in text
    assert "nuserve_worker_inits_total 2" in text


def test_render_without_a_shared_directory_is_this_worker_only() -> None:
    counters = Metrics()
    counters.in_flight = 2
    text = counters.render(None)
    assert "nuserve_requests_in_flight 2" in text
    assert text.endswith("\n")


def test_tracking_counters_are_summed_over_workers():
    one, two = Metrics(pid=1), Metrics(pid=2)
    one.tracking = lambda: {"tracked": 5, "sent": 4, "dropped": 1, "queued": 0, "retried": 2, "errors": 0}
    two.tracking = lambda: {"tracked": 3, "sent": 3, "dropped": 0, "queued": 1, "retried": 0, "errors": 1}
    text = render([one.snapshot(), two.snapshot()])
    assert 'nuserve_tracking_records_total{state="tracked"} 8' in text
    assert 'nuserve_tracking_records_total{state="dropped"} 1' in text
    assert "nuserve_tracking_queued 1" in text
    assert "nuserve_tracking_send_retries_total 2" in text
    assert "nuserve_tracking_errors_total 1" in text
    assert "nuserve_tracking" not in render([Metrics(pid=3).snapshot()])


def test_timeouts_are_summed_over_workers_and_absent_without_a_timeout():
    one, two, untimed = Metrics(pid=1), Metrics(pid=2), Metrics(pid=3)
    one.timeouts = lambda: {"timed_out": 3, "stuck": 1}
    two.timeouts = lambda: {"timed_out": 2, "stuck": 0}
    text = render([one.snapshot(), two.snapshot(), untimed.snapshot()])
    assert "nuserve_request_timeouts_total 5\n" in text
    assert "nuserve_abandoned_calls 1\n" in text
    assert "nuserve_request_timeouts_total" not in render([untimed.snapshot()])
