"""``nuserve monitor``'s arguments and run, the entry point, and import hygiene."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

import nuserve.monitoring
from nuserve.cli.monitor import add_arguments, run, seconds
from nuserve.errors import ConfigError
from nuserve.monitoring import run_monitor
from tests.unit.monitoring.records import record


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("text", "value"), [("600", 600), ("10m", 600), ("1h", 3600), ("2s", 2), ("0.5", 0.5)]
)
def test_durations(text, value) -> None:
    assert seconds(text) == value


def test_bad_duration() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="use 600, 10m, 1h or 2s"):
        seconds("soon")


def test_cli_run_consumes_a_file_stream(tmp_path) -> None:
    stream = tmp_path / "t.jsonl"
    stream.write_text("\n".join(json.dumps(record(100.0 + i, [[1.0]], [0])) for i in range(5)))
    stream.write_text(stream.read_text() + "\n")
    stats_file = tmp_path / "stats.json"
    stats_file.write_text(json.dumps({"x": {"hist": [[1, 1], [0.0, 1.0, 2.0]]}}))
    args = parse(
        "--stream", f"file://{stream}", "--store", str(tmp_path / "m.db"), "--window", "10s",
        "--window", "1m", "--reference", f"iris={stats_file}", "--duration", "0.6",
        "--min-samples", "1",
    )  # fmt: skip
    assert run(args) == 0
    store = nuserve.monitoring.open_store(str(tmp_path / "m.db"))
    assert store.window_lengths("fn-iris") == [10.0, 60.0]
    (window,) = store.windows("fn-iris", 60.0)
    assert window["requests"] == 5 and window["general_drift"] is not None
    store.close()


def test_cli_needs_something_to_do() -> None:
    with pytest.raises(ConfigError, match="nothing to do: give --stream URL, --serve, or both"):
        run(parse())


def test_run_monitor_bounds_and_serve_only(tmp_path) -> None:
    stats = run_monitor(None, f"sqlite://{tmp_path}/m.db", serve=True, port=0, duration=0.2)
    assert stats["records"] == 0
    stream = tmp_path / "t.jsonl"
    stream.write_text("".join(json.dumps(record(1.0, None, None)) + "\n" for _ in range(3)))
    stats = run_monitor(f"file://{stream}", f"sqlite://{tmp_path}/m.db", max_records=2, duration=10)
    assert stats["records"] == 3  # stops after the poll that reached max_records


def test_import_nuserve_does_not_import_monitoring() -> None:
    code = (
        "import sys, nuserve; print(any(m.startswith('nuserve.monitoring') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    code = "import sys, nuserve.monitoring; print('confluent_kafka' in sys.modules, 'pg8000' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_public_api() -> None:
    for name in nuserve.monitoring.__all__:
        assert hasattr(nuserve.monitoring, name), name
    assert (
        "run_monitor" in nuserve.monitoring.__all__
        and "feature_stats" in nuserve.monitoring.__all__
    )
