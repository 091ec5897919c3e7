"""OIP binary tensors and gRPC: nuserve against KServe 0.21, MLServer 1.7 and a bare floor.

Usage: .venv/bin/python bench/oip_binary.py [--seconds S] [--skip-others] [--grpc-only]

1. A 1 MB FP32 tensor (262,144 values) to a model answering its mean: requests/s over one
   keep-alive connection with the binary extension and with JSON, and over one gRPC channel
   with ``raw_input_contents`` (tritonclient's sync client), on nuserve, KServe and MLServer
   (each in its own venv under ~/.cache/nuserve, made by tests/clients/venvs.py). Goals:
   nuserve binary ≥ 5x nuserve JSON; nuserve binary ≥ 2x KServe's and MLServer's. MLServer
   1.7's REST server has no binary extension (it parses every body as JSON and answers the
   binary request with a 500, printed): its binary path is gRPC, compared with nuserve's
   binary HTTP and gRPC.
2. A 64 MB binary tensor: peak RSS growth of the nuserve worker (VmHWM), goal ≤ 2x the body.
3. gRPC unary, a [1, 4] FP32 tensor, with tritonclient's sync client (one call at a time)
   and its aio client (8 calls in flight on one channel): nuserve ≥ 1.5x KServe. The floor is
   bench/bare_grpc.py, grpcio's sync server (the one nuserve runs, the fastest bare Python
   gRPC server here) answering a fixed tensor with no model and no graph, measured with the
   same clients: what the client and grpcio allow on this machine; "bare grpc.aio" is the
   same on grpcio's asyncio server (what KServe and MLServer run on). ``--grpc-only``
   measures only this part (nuserve, KServe and the floors).
Each server runs one worker; the client runs beside it (the numbers are only as steady as
the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.clients.venvs import python_of  # noqa: E402
from tests.serve_models import children, free_port, stop, wait_until, write_function_yaml  # noqa: E402

HERE = Path(__file__).resolve().parent / "oip"
HEADER = "Inference-Header-Content-Length"
NAN = float("nan")


def binary_request(array: np.ndarray) -> tuple[bytes, dict[str, str]]:
    tensor = {
        "name": "x",
        "shape": list(array.shape),
        "datatype": "FP32",
        "parameters": {"binary_data_size": array.nbytes},
    }
    head = orjson.dumps({"inputs": [tensor]})
    return head + array.tobytes(), {
        HEADER: str(len(head)),
        "Content-Type": "application/octet-stream",
    }


def json_request(array: np.ndarray) -> tuple[bytes, dict[str, str]]:
    tensor = {"name": "x", "shape": list(array.shape), "datatype": "FP32", "data": array.tolist()}
    return orjson.dumps({"inputs": [tensor]}), {"Content-Type": "application/json"}


def rate(port: int, body: bytes, headers: dict[str, str], seconds: float) -> float:
    """Requests/s of one keep-alive connection sending ``body`` for ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path = "/v2/models/mean/infer"
    count, deadline = 0, time.monotonic() + seconds
    started = time.monotonic()
    try:
        while time.monotonic() < deadline and count < 100_000:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"{port}: {response.status} {data[:300]!r}")
            count += 1
    finally:
        conn.close()
    return count / (time.monotonic() - started)


def grpc_rate(port: int, seconds: float, array: np.ndarray, concurrency: int = 1) -> float:
    """ModelInfer calls/s carrying ``array`` in ``raw_input_contents`` (tritonclient's
    ``set_data_from_numpy``): one sync client (one call at a time) when ``concurrency`` is 1,
    else tritonclient's aio client with ``concurrency`` calls in flight on one channel."""
    if concurrency == 1:
        import tritonclient.grpc as client_lib  # noqa: PLC0415

        client = client_lib.InferenceServerClient(f"127.0.0.1:{port}")
        x = client_lib.InferInput("x", list(array.shape), "FP32")
        x.set_data_from_numpy(array)
        count, started = 0, time.monotonic()
        deadline = started + seconds
        try:
            while time.monotonic() < deadline and count < 500_000:
                client.infer("mean", [x])
                count += 1
        finally:
            client.close()
        return count / (time.monotonic() - started)

    import tritonclient.grpc.aio as aioclient  # noqa: PLC0415

    async def run() -> float:
        client = aioclient.InferenceServerClient(f"127.0.0.1:{port}")
        x = aioclient.InferInput("x", list(array.shape), "FP32")
        x.set_data_from_numpy(array)
        count, started = 0, time.monotonic()
        deadline = started + seconds

        async def caller() -> None:
            nonlocal count
            while time.monotonic() < deadline and count < 500_000:
                await client.infer("mean", [x])
                count += 1

        await asyncio.gather(*(caller() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
        await client.close()
        return count / elapsed

    return asyncio.run(run())


def grpc_ready(port: int) -> bool:
    import tritonclient.grpc as client_lib  # noqa: PLC0415

    client = client_lib.InferenceServerClient(f"127.0.0.1:{port}")
    try:
        return bool(client.is_server_ready(client_timeout=2))
    except Exception:  # not up yet
        return False
    finally:
        client.close()


def probe(port: int, body: bytes, headers: dict[str, str]) -> str:
    """One request's status and the start of its answer (what a refusal says)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/v2/models/mean/infer", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    lines = data.decode("utf-8", "replace").strip().splitlines() or [""]
    return f"{response.status} {lines[-1][:160]}"


def ready(port: int, path: str = "/v2/health/ready") -> bool:
    with contextlib.suppress(OSError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status == 200
    return False


@contextlib.contextmanager
def running(
    command: list[str],
    port: int,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    grpc_port: int | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """The server of ``command``, once its HTTP ``port`` (0: none) and ``grpc_port`` answer."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)

    def up() -> bool:
        if process.poll() is not None:
            return False
        if port and not ready(port):
            return False
        return grpc_port is None or grpc_ready(grpc_port)

    try:
        wait_until(up, 120, f"{command[0]} on {port or grpc_port}")
        yield process
    except AssertionError:
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop(process)


def nuserve_server(tmp: Path, http_port: int, grpc_port: int) -> Any:
    spec = write_function_yaml(
        tmp / "function.yaml", {"mean": "tests.serve_models.Mean"}, max_body_size=200 * 1024 * 1024
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    command = [
        sys.executable,
        "-m",
        "nuserve.cli",
        "serve",
        str(spec),
        "--port",
        str(http_port),
        "--workers",
        "1",
        "--grpc-port",
        str(grpc_port),
    ]
    return running(command, http_port, env, tmp, tmp / "nuserve.log", grpc_port)


def kserve_server(tmp: Path, http_port: int, grpc_port: int) -> Any:
    python = python_of("kserve-0.21")
    command = [str(python), str(HERE / "kserve_mean.py"), str(http_port), str(grpc_port)]
    return running(command, http_port, dict(os.environ), tmp, tmp / "kserve.log", grpc_port)


def mlserver_server(tmp: Path, http_port: int, grpc_port: int) -> Any:
    python = python_of("mlserver-1.7")
    folder = tmp / "mlserver"
    folder.mkdir()
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "http_port": http_port,
                "grpc_port": grpc_port,
                "metrics_port": free_port(),
                "parallel_workers": 0,
                "host": "127.0.0.1",
            }
        )
    )
    (folder / "model-settings.json").write_text(
        json.dumps({"name": "mean", "implementation": "mlserver_mean.Mean"})
    )
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    command = [str(python.parent / "mlserver"), "start", str(folder)]
    return running(command, http_port, env, tmp, tmp / "mlserver.log", grpc_port)


def bare_grpc_server(tmp: Path, grpc_port: int, aio: bool = False) -> Any:
    """bench/bare_grpc.py: grpcio's sync server (``aio``: its asyncio server) answering a
    fixed tensor (the floor)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(ROOT / "bench" / "bare_grpc.py"), str(grpc_port)]
    command += ["--aio"] if aio else []
    return running(command, 0, env, tmp, tmp / "bare_grpc.log", grpc_port)


def peak_growth(process: subprocess.Popen[bytes], port: int, mb: int) -> tuple[float, float]:
    """(peak RSS growth of the worker in MB, x the body) for one ``mb`` MB binary request."""
    workers = children(process.pid) | {process.pid}  # one worker may be the process itself

    def status(pid: int, key: str) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return 0

    array = np.ones(mb * 1024 * 1024 // 4, np.float32)
    body, headers = binary_request(array)
    before = {pid: status(pid, "VmRSS") for pid in workers}
    rate(port, body, headers, 0.001)
    growth = max(status(pid, "VmHWM") - before[pid] for pid in workers)
    return growth / 1e6, growth / len(body)


SMALL = np.ones((1, 4), np.float32)
"""The small tensor of the gRPC unary figures."""


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """User + system CPU seconds of ``process`` and its children (the server's workers)."""
    total = 0.0
    for pid in children(process.pid) | {process.pid}:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(
    process: subprocess.Popen[bytes],
    http_port: int,
    grpc_port: int,
    s: float,
    bodies: dict[str, Any],
    grpc_only: bool = False,
) -> dict[str, float]:
    """One server's figures; an HTTP binary request it refuses is NaN, and why is printed.
    ``cpu c1``/``cpu c8``: the server's CPU µs per small gRPC call (steadier than calls/s on
    a shared machine: it does not count the client)."""
    row: dict[str, float] = {}
    if http_port and not grpc_only:
        row["json"] = rate(http_port, *bodies["json"], s)
        try:
            row["binary"] = rate(http_port, *bodies["binary"], s)
        except RuntimeError:
            row["binary"] = NAN
            answer = probe(http_port, *bodies["binary"])
            print(f"port {http_port} refused the binary request: {answer}", file=sys.stderr)
    row["grpc raw"] = NAN if grpc_only else grpc_rate(grpc_port, s, bodies["array"])
    for column, concurrency in (("c1", 1), ("c8", 8)):
        cpu, started = cpu_seconds(process), time.monotonic()
        row[column] = grpc_rate(grpc_port, s, SMALL, concurrency=concurrency)
        calls = row[column] * (time.monotonic() - started)
        row["cpu " + column] = (cpu_seconds(process) - cpu) / calls * 1e6
    return row


def ratio(a: float, b: float) -> str:
    return f"{a / b:8.2f}x" if a == a and b == b and b else "     n/a"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--skip-others", action="store_true", help="nuserve and the floor only")
    parser.add_argument("--grpc-only", action="store_true", help="gRPC unary, small tensor only")
    args = parser.parse_args()
    s, only = args.seconds, args.grpc_only
    array = np.random.default_rng(0).random(262_144, dtype=np.float32)  # 1 MB
    bodies = {"binary": binary_request(array), "json": json_request(array), "array": array}
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        with bare_grpc_server(tmp, port) as bare:
            rows["bare grpcio"] = measure(bare, 0, port, s, bodies, only)
        port = free_port()
        with bare_grpc_server(tmp, port, aio=True) as bare:
            rows["bare grpc.aio"] = measure(bare, 0, port, s, bodies, only)
        http_port, grpc_port = free_port(), free_port()
        growth_mb = growth_x = NAN
        with nuserve_server(tmp, http_port, grpc_port) as process:
            if not only:
                growth_mb, growth_x = peak_growth(process, http_port, 64)
            rows["nuserve"] = measure(process, http_port, grpc_port, s, bodies, only)
        if not args.skip_others:
            k_http, k_grpc = free_port(), free_port()
            with kserve_server(tmp, k_http, k_grpc) as kserve:
                rows["kserve 0.21"] = measure(kserve, k_http, k_grpc, s, bodies, only)
        if not args.skip_others and not only:
            m_http, m_grpc = free_port(), free_port()
            with mlserver_server(tmp, m_http, m_grpc) as mlserver:
                rows["mlserver 1.7"] = measure(mlserver, m_http, m_grpc, s, bodies)
    if not only:
        print(f"1 MB FP32 tensor (262,144 values), one connection, {s:g} s each; req/s")
        print(f"{'server':<14}{'http binary':>12}{'http json':>11}{'grpc raw':>10}")
        for name, row in rows.items():
            print(
                f"{name:<14}{row.get('binary', NAN):>12.1f}{row.get('json', NAN):>11.1f}"
                f"{row['grpc raw']:>10.1f}"
            )
    print(f"\ngRPC unary, [1, 4] FP32 raw, {s:g} s each; calls/s")
    print(f"{'server':<14}{'sync c=1':>10}{'aio c=8':>10}   server CPU µs/call c=1, c=8")
    for name, row in rows.items():
        print(
            f"{name:<14}{row['c1']:>10.1f}{row['c8']:>10.1f}"
            f"{row['cpu c1']:>12.0f}{row['cpu c8']:>8.0f}"
        )
    n, floor = rows["nuserve"], rows["bare grpcio"]
    k, m = rows.get("kserve 0.21"), rows.get("mlserver 1.7")

    def goal(label: str, a: float, b: float, target: str) -> None:
        print(f"{label:<44}{ratio(a, b)}   {target}")

    aio_floor = rows["bare grpc.aio"]
    print("\ngoal                                        measured   target")
    if not only:
        goal("nuserve http binary / nuserve http json", n["binary"], n["json"], ">= 5x")
    if k is not None and not only:
        goal("nuserve http binary / kserve http binary", n["binary"], k["binary"], ">= 2x")
    if m is not None:
        goal("nuserve http binary / mlserver http binary", n["binary"], m["binary"], ">= 2x")
        goal("nuserve http binary / mlserver grpc raw", n["binary"], m["grpc raw"], ">= 2x")
        goal("nuserve grpc raw / mlserver grpc raw", n["grpc raw"], m["grpc raw"], ">= 2x")
    for column, label in (("c8", "aio c=8"), ("c1", "sync c=1")):
        if k is not None:
            goal(f"nuserve grpc / kserve grpc, {label}", n[column], k[column], ">= 1.5x")
        if m is not None:
            goal(f"nuserve grpc / mlserver grpc, {label}", n[column], m[column], "")
        goal(f"nuserve grpc / bare grpcio, {label}", n[column], floor[column], "(floor)")
        if k is not None:
            goal(f"kserve grpc / bare grpcio, {label}", k[column], floor[column], "(floor)")
            goal(f"kserve grpc / bare grpc.aio, {label}", k[column], aio_floor[column], "")
    if not only:
        print(
            f"64 MB binary tensor: worker peak RSS +{growth_mb:.0f} MB = "
            f"{growth_x:.2f}x the body   <= 2x"
        )


if __name__ == "__main__":
    main()
