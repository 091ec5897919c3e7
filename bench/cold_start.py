"""Cold start: ``import nuserve`` in a fresh interpreter, and ``nuserve serve`` → first 200.

Import time is measured inside the new interpreter around ``import nuserve`` (interpreter
start-up excluded); RSS is its absolute ``VmRSS`` after the import, with the bare
interpreter's before it. Serve → first 200 runs ``nuserve serve function.yaml --workers 1``
(the iris example) and polls ``POST /v2/models/iris/infer`` every 10 ms from the moment the
process is started. The floor, ``bench/bare_asgi.py``, loads the same model under bare uvicorn
(it imports nothing of nuserve). After each first 200, 300 more requests, then the VmRSS of
the serving process: per worker, beside the floor's, which bounds it (numpy, scipy and
sklearn are the model's, not nuserve's).

Both start from compiled bytecode, as an installed package does (pip writes the ``.pyc`` files
at install time): nuserve's sources are compiled once first (``compileall``), and
``PYTHONDONTWRITEBYTECODE`` is dropped for the servers. With it set and no ``.pyc``, every
start compiled nuserve's ~200 modules from source (~90 ms of cProfile'd start-up) while the
floor's libraries had theirs from pip.

Run: ``python bench/cold_start.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers import (
    ROOT,
    bare_command,
    cpu_seconds,
    free_port,
    group_pids,
    nuserve_command,
    post,
    prepare_iris,
    start,
    stop,
    wait_for_200,
)

PROBE = """
import json, sys, time
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss_mb()
start = time.perf_counter()
import nuserve
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss_mb": rss_mb(), "rss_before_mb": before,
                  "modules": len(sys.modules), "numpy": "numpy" in sys.modules}))
"""


@dataclass(frozen=True)
class ColdStart:
    imports: list[dict[str, Any]]
    serve_s: list[float]
    floor_s: list[float]
    """The bare ASGI app (same sklearn import and model load) → first 200: the floor."""
    serve_cpu: list[float]
    floor_cpu: list[float]
    """CPU seconds (user + system) each server had used at its first 200: steadier than
    the wall time on a shared machine."""
    serve_rss: list[float]
    floor_rss: list[float]
    """VmRSS (MB) of the serving process after 300 requests."""

    def median(self, key: str) -> float:
        return statistics.median(run[key] for run in self.imports)

    def spread(self, key: str) -> tuple[float, float]:
        values = [run[key] for run in self.imports]
        return min(values), max(values)


def import_once() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUSERVE_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return dict(json.loads(done.stdout))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve_once(command: list[str], log: Path, timeout: float = 60) -> tuple[float, float, float]:
    """Seconds from starting ``command`` (a server) to its first 200 on the inference path,
    the CPU seconds its processes had used by then, and the VmRSS (MB) of its largest
    process after 300 more requests."""
    port = free_port()
    process = start([*command, "--port", str(port)], log)
    try:
        first = wait_for_200(port, process, timeout)
        cpu = cpu_seconds(group_pids(process.pid))
        for _ in range(300):
            post(port)
        return first, cpu, max(rss_mb(pid) for pid in group_pids(process.pid))
    finally:
        stop(process)


def measure(
    function_yaml: Path, model_dir: Path, logs: Path, imports: int, serves: int
) -> ColdStart:
    found = [import_once() for _ in range(imports)]
    served, floor = [], []
    for i in range(serves):  # the order flips every run: the second start finds warmer caches
        pair = [
            ("nuserve", nuserve_command(function_yaml), logs / "cold.log"),
            ("floor", bare_command(model_dir), logs / "bare-cold.log"),
        ]
        for name, command, log in pair[:: -1 if i % 2 else 1]:
            (served if name == "nuserve" else floor).append(serve_once(command, log))
    return ColdStart(
        found,
        [s for s, _, _ in served],
        [s for s, _, _ in floor],
        [c for _, c, _ in served],
        [c for _, c, _ in floor],
        [r for _, _, r in served],
        [r for _, _, r in floor],
    )


def report(cold: ColdStart) -> str:
    low, high = cold.spread("seconds")
    rss_low, rss_high = cold.spread("rss_mb")
    ratio = statistics.median(cold.serve_s) / statistics.median(cold.floor_s)
    cpu_ratio = statistics.median(cold.serve_cpu) / statistics.median(cold.floor_cpu)
    first = cold.imports[0]
    return "\n".join(
        [
            f"import nuserve      {cold.median('seconds'):.3f} s  (min-max {low:.3f}-{high:.3f}, "
            f"{len(cold.imports)} runs; {first['modules']} modules, numpy imported: "
            f"{first['numpy']})",
            f"VmRSS after import  {cold.median('rss_mb'):.1f} MB  (min-max {rss_low:.1f}-"
            f"{rss_high:.1f}; bare interpreter {cold.median('rss_before_mb'):.1f} MB)",
            f"serve → first 200   {statistics.median(cold.serve_s):.2f} s  (min-max "
            f"{min(cold.serve_s):.2f}-{max(cold.serve_s):.2f}, {len(cold.serve_s)} runs)",
            f"bare ASGI → 200     {statistics.median(cold.floor_s):.2f} s  (min-max "
            f"{min(cold.floor_s):.2f}-{max(cold.floor_s):.2f}; the floor: the same sklearn "
            "import and model load under uvicorn, no nuserve)",
            f"serve / floor       {ratio:.2f}x  (goal ≤ 1.1x)",
            f"CPU to first 200    nuserve {statistics.median(cold.serve_cpu):.2f} s (min-max "
            f"{min(cold.serve_cpu):.2f}-{max(cold.serve_cpu):.2f}), floor "
            f"{statistics.median(cold.floor_cpu):.2f} s (min-max {min(cold.floor_cpu):.2f}-"
            f"{max(cold.floor_cpu):.2f}): {cpu_ratio:.2f}x",
            f"worker VmRSS        nuserve {statistics.median(cold.serve_rss):.1f} MB, floor "
            f"{statistics.median(cold.floor_rss):.1f} MB (nuserve's own: "
            f"{statistics.median(cold.serve_rss) - statistics.median(cold.floor_rss):+.1f} MB)",
        ]
    )


def compile_package() -> None:
    """nuserve's ``.pyc`` files, as ``pip install`` writes them (an editable install has none)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    package = ROOT / "runtime" / "nuserve"
    compileall = [sys.executable, "-m", "compileall", "-q", str(package)]
    subprocess.run(compileall, check=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args()
    compile_package()
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp:
        iris = prepare_iris(Path(tmp))
        imports, serves = (5, 2) if args.quick else (9, 6)
        print(report(measure(iris.plain_yaml, iris.model_dir, Path(tmp), imports, serves)))


if __name__ == "__main__":
    main()
