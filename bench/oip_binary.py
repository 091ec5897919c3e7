"""OIP binary tensors and gRPC: nuserve against KServe 0.21 and MLServer 1.7, side by side.

Usage: .venv/bin/python bench/oip_binary.py [--seconds S] [--skip-others]

1. A 1 MB FP32 tensor (262,144 values) to a model answering its mean: requests/s over one
   keep-alive connection with the binary extension and with JSON, on nuserve, KServe and
   MLServer (each in its own venv under ~/.cache/nuserve, made by tests/clients/venvs.py).
   Goals: nuserve binary ≥ 5x nuserve JSON; nuserve binary ≥ 2x KServe's and MLServer's.
2. A 64 MB binary tensor: peak RSS growth of the nuserve worker (VmHWM), goal ≤ 2x the body.
3. gRPC unary, a [1, 4] FP32 tensor (tritonclient's aio gRPC client, 8 calls in flight):
   nuserve ≥ 1.5x KServe.
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


def grpc_rate(port: int, seconds: float, concurrency: int = 8) -> float:
    """Unary calls/s of tritonclient's aio gRPC client, ``concurrency`` calls in flight
    (one sync client measured the client: both servers sat at its ~1,200 calls/s)."""
    import tritonclient.grpc.aio as aioclient  # noqa: PLC0415

    async def run() -> float:
        client = aioclient.InferenceServerClient(f"127.0.0.1:{port}")
        x = aioclient.InferInput("x", [1, 4], "FP32")
        x.set_data_from_numpy(np.ones((1, 4), np.float32))
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


def ready(port: int, path: str = "/v2/health/ready") -> bool:
    with contextlib.suppress(OSError):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status == 200
    return False


@contextlib.contextmanager
def running(
    command: list[str], port: int, env: dict[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
    try:
        wait_until(lambda: process.poll() is None and ready(port), 120, f"{command[0]} on {port}")
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
    return running(command, http_port, env, tmp, tmp / "nuserve.log")


def kserve_server(tmp: Path, http_port: int, grpc_port: int) -> Any:
    python = python_of("kserve-0.21")
    command = [str(python), str(HERE / "kserve_mean.py"), str(http_port), str(grpc_port)]
    return running(command, http_port, dict(os.environ), tmp, tmp / "kserve.log")


def mlserver_server(tmp: Path, http_port: int) -> Any:
    python = python_of("mlserver-1.7")
    folder = tmp / "mlserver"
    folder.mkdir()
    (folder / "settings.json").write_text(
        json.dumps(
            {
                "http_port": http_port,
                "grpc_port": free_port(),
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
    return running(command, http_port, env, tmp, tmp / "mlserver.log")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--skip-others", action="store_true", help="nuserve only")
    args = parser.parse_args()
    s = args.seconds
    array = np.random.default_rng(0).random(262_144, dtype=np.float32)  # 1 MB
    binary, json_body = binary_request(array), json_request(array)
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        http_port, grpc_port = free_port(), free_port()
        with nuserve_server(tmp, http_port, grpc_port) as process:
            growth_mb, growth_x = peak_growth(process, http_port, 64)
            rows["nuserve"] = {
                "binary": rate(http_port, *binary, s),
                "json": rate(http_port, *json_body, s),
                "grpc": grpc_rate(grpc_port, s),
            }
        if not args.skip_others:
            k_http, k_grpc = free_port(), free_port()
            with kserve_server(tmp, k_http, k_grpc):
                rows["kserve 0.21"] = {
                    "binary": rate(k_http, *binary, s),
                    "json": rate(k_http, *json_body, s),
                    "grpc": grpc_rate(k_grpc, s),
                }
            m_http = free_port()
            with mlserver_server(tmp, m_http):
                row: dict[str, float] = {"json": rate(m_http, *json_body, s)}
                try:
                    row["binary"] = rate(m_http, *binary, s)
                except RuntimeError as exc:
                    print(f"mlserver binary: {exc}", file=sys.stderr)
                    row["binary"] = float("nan")
                rows["mlserver 1.7"] = row
    print(f"1 MB FP32 tensor (262,144 values), one connection, {s:g} s each; req/s")
    print(f"{'server':<14}{'binary':>10}{'json':>10}{'grpc [1,4]':>12}")
    for name, row in rows.items():
        print(
            f"{name:<14}{row.get('binary', NAN):>10.1f}{row['json']:>10.1f}"
            f"{row.get('grpc', NAN):>12.1f}"
        )
    n = rows["nuserve"]
    print("\ngoal                                   measured   target")
    print(f"nuserve binary / nuserve json           {n['binary'] / n['json']:8.2f}x   >= 5x")
    for other in ("kserve 0.21", "mlserver 1.7"):
        if other in rows and rows[other]["binary"] != rows[other]["binary"]:  # NaN: refused
            print(
                f"nuserve binary / {other} JSON        "
                f"{n['binary'] / rows[other]['json']:8.2f}x   (it refused the binary request)"
            )
        elif other in rows:
            print(
                f"nuserve binary / {other:<21} {n['binary'] / rows[other]['binary']:8.2f}x   >= 2x"
            )
    if "kserve 0.21" in rows:
        print(
            f"nuserve grpc / kserve grpc              "
            f"{n['grpc'] / rows['kserve 0.21']['grpc']:8.2f}x   >= 1.5x"
        )
    print(
        f"64 MB binary tensor: worker peak RSS +{growth_mb:.0f} MB = "
        f"{growth_x:.2f}x the body   <= 2x"
    )


if __name__ == "__main__":
    main()
