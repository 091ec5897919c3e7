"""Tracking cost over HTTP: ``nuserve serve`` of iris with Kafka tracking on vs off, same run.

Both servers serve the iris example (``--workers 1``); the tracked one records every request
to a topic on a real broker started from ``tests/kafka/broker.py``. The two are loaded in
turn at concurrency 16, alternating over the rounds. Goal: ≤ 5 % fewer req/s with tracking.

Run: ``python bench/tracking_http.py [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from http_bench import alternate, generator
from servers import IRIS_CODE, cores, nuserve_command, prepare_iris, started

import nuserve
from tests.kafka.broker import KafkaBroker

CONCURRENCY = 16


def tracked_yaml(path: Path, model_dir: Path, bootstrap: str) -> Path:
    fn = nuserve.code_to_function("iris", filename=str(IRIS_CODE), kind="serving")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model_dir))
    fn.set_tracking(f"kafka://{bootstrap}?topic=bench-tracking")
    fn.to_yaml(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per point, 2 rounds")
    args = parser.parse_args()
    seconds, rounds = (2, 2) if args.quick else (5, 3)
    wrk = generator()
    server_core = cores()[0]
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp, KafkaBroker() as broker:
        logs = Path(tmp)
        iris = prepare_iris(logs)
        tracked = tracked_yaml(logs / "tracked.yaml", iris.model_dir, broker.bootstrap)
        with (
            started(nuserve_command(iris.plain_yaml), logs / "off.log", server_core) as off,
            started(nuserve_command(tracked), logs / "kafka.log", server_core) as kafka,
        ):
            runs = alternate({"off": off, "kafka": kafka}, CONCURRENCY, seconds, rounds, wrk)
    results = {name: [run["rps"] for run in runs[name]] for name in runs}
    off_rps, on_rps = statistics.median(results["off"]), statistics.median(results["kafka"])
    generator_name = wrk or "bench/loadgen.py"
    print(f"load generator: {generator_name}; c={CONCURRENCY}, {rounds} rounds of {seconds} s")
    print(f"{'tracking':<22}{'req/s':>9}{'min-max':>15}{'cost':>8}")
    for name, label, rps in (("off", "off", off_rps), ("kafka", "kafka, every request", on_rps)):
        low, high = min(results[name]), max(results[name])
        cost = (off_rps - rps) / off_rps * 100
        print(f"{label:<22}{rps:>9.0f}{f'{low:.0f}-{high:.0f}':>15}{cost:>7.1f}%")


if __name__ == "__main__":
    main()
