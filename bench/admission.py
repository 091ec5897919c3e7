"""Admission control under 1,000 connections: ``nuserve serve`` (iris) with its in-flight limit
(``--max-in-flight``, 256 by default) against the same server without one (``0``, the floor).

``wrk -c1000`` floods each server in turn (one worker, pinned to one core; wrk on another);
meanwhile a probe sends one request after another on its own keep-alive connection and times
each: its 200s give the latency a client that is let in sees (p50, p99), its 503s the share
refused. Without a limit every request waits its turn in the event loop; with one, what is
over the limit is refused at once with ``Retry-After``, and what is let in is answered soon.
wrk is installed with apt-get when missing (as root).

Run: ``python bench/admission.py [--quick]``
"""

from __future__ import annotations

import argparse
import http.client
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from http_bench import load
from servers import BODY, HOST, INFER, cores, nuserve_command, prepare_iris, started

CONNECTIONS = 1000
LIMITS = (("no limit (floor)", 0), ("--max-in-flight 256", 256), ("--max-in-flight 64", 64))


def ensure_wrk() -> str:
    """wrk's path, installed with apt-get when missing and this runs as root."""
    found = shutil.which("wrk")
    if found is None and shutil.which("apt-get"):
        print("installing wrk with apt-get...", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, timeout=300)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (this bench needs wrk)")
    return found


def raise_file_limit() -> None:
    """1,000 connections need more descriptors than the usual soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def probe(port: int, stop: threading.Event, seen: list[tuple[int, float]]) -> None:
    """One request after another on one connection: ``(status, seconds)`` each."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    while not stop.is_set():
        began = time.perf_counter()
        try:
            conn.request("POST", INFER, body=BODY, headers=headers)
            response = conn.getresponse()
            response.read()
            seen.append((response.status, time.perf_counter() - began))
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            seen.append((0, time.perf_counter() - began))
    conn.close()


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(port: int, seconds: int, wrk: str) -> dict[str, Any]:
    stop, seen = threading.Event(), []
    prober = threading.Thread(target=probe, args=(port, stop, seen), daemon=True)
    time.sleep(0.2)
    prober.start()
    result = load(port, CONNECTIONS, seconds, cores()[1], wrk)
    stop.set()
    prober.join(35)
    admitted = [s for status, s in seen if status == 200]
    result["probe_requests"] = len(seen)
    result["probe_503_share"] = sum(1 for status, _ in seen if status == 503) / max(len(seen), 1)
    result["probe_p50_ms"] = (percentile(admitted, 0.50) or 0) * 1e3
    result["probe_p99_ms"] = (percentile(admitted, 0.99) or 0) * 1e3
    result["share_503"] = result["non2xx"] / max(result["requests"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per run, 1 round")
    args = parser.parse_args()
    seconds, rounds = (5, 1) if args.quick else (10, 2)
    wrk = ensure_wrk()
    raise_file_limit()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in LIMITS}
    with tempfile.TemporaryDirectory(prefix="nuserve-bench-") as tmp:
        logs = Path(tmp)
        iris = prepare_iris(logs)
        for round_ in range(rounds):
            for name, limit in LIMITS[:: -1 if round_ % 2 else 1]:
                command = [*nuserve_command(iris.plain_yaml), "--max-in-flight", str(limit)]
                with started(command, logs / f"{limit}.log", cores()[0]) as port:
                    load(port, 64, 1, cores()[1], wrk)  # warm up
                    results[name].append(measure(port, seconds, wrk))
    print(f"wrk -c{CONNECTIONS} -d{seconds}s, {rounds} round(s), one worker; probe: 1 connection")
    print(
        f"{'server':<22}{'req/s':>8}{'503 share':>11}{'wrk p99 ms':>12}"
        f"{'admitted p50':>14}{'admitted p99':>14}{'probe n':>9}{'errors':>8}"
    )
    for name, _ in LIMITS:
        runs = results[name]

        def median(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        print(
            f"{name:<22}{median('rps'):>8.0f}{median('share_503'):>10.1%} "
            f"{median('p99_ms'):>11.0f}{median('probe_p50_ms'):>13.1f} "
            f"{median('probe_p99_ms'):>13.1f}{median('probe_requests'):>9.0f}"
            f"{median('errors'):>8.0f}"
        )


if __name__ == "__main__":
    main()
