"""Cost of ``request_timeout`` over HTTP: ``nuserve serve`` of iris with it off vs on, same run.

With a timeout, each request's sync hooks run in the model's lane thread (``nuserve.server.lanes``)
so that a hanging ``predict`` can be abandoned at the deadline; without one they run inline on
the event loop. Both servers serve the iris example (``--workers 1``) and are loaded in turn at
concurrency 16, alternating over the rounds; the one without the timeout is the floor.

Run: ``python bench/timeout_http.py [--quick]``.
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

CONCURRENCY = 16
TIMEOUT = "30s"


def timed_yaml(path: Path, model_dir: Path) -> Path:
    fn = nuserve.code_to_function("iris", filename=str(IRIS_CODE), kind="serving")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model_dir))
    fn.with_http(request_timeout=TIMEOUT)
    fn.to_yaml(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s per point, 2 rounds")
    args = parser.parse_args()
    seconds, rounds = (2, 2) if args.quick else (5, 3)
    wrk = generator()
    server_core = cores()[0]
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp:
        logs = Path(tmp)
        iris = prepare_iris(logs)
        timed = timed_yaml(logs / "timed.yaml", iris.model_dir)
        with (
            started(nuserve_command(iris.plain_yaml), logs / "off.log", server_core) as off,
            started(nuserve_command(timed), logs / "on.log", server_core) as on,
        ):
            results = alternate({"off": off, "on": on}, CONCURRENCY, seconds, rounds, wrk)
    generator_name = wrk or "bench/loadgen.py"
    print(f"load generator: {generator_name}; c={CONCURRENCY}, {rounds} rounds of {seconds} s")
    print(f"{'request_timeout':<20}{'req/s':>9}{'min-max':>15}{'p99 ms':>9}{'cost':>8}")
    floor = statistics.median(r["rps"] for r in results["off"])
    for name, label in (("off", "off (floor)"), ("on", f"{TIMEOUT}")):
        rps = [r["rps"] for r in results[name]]
        p99 = statistics.median(r["p99_ms"] for r in results[name])
        median = statistics.median(rps)
        cost = (floor - median) / floor * 100
        span = f"{min(rps):.0f}-{max(rps):.0f}"
        print(f"{label:<20}{median:>9.0f}{span:>15}{p99:>9.2f}{cost:>7.1f}%")


if __name__ == "__main__":
    main()
