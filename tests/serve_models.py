"""Shared setup of the ``nuserve serve`` tests: fake models, function.yaml, a real server.

The models record what happened in files named by environment variables, since they run in
worker processes the test cannot look into. ``Served`` runs
``nuserve serve`` (``python -m nuserve.cli serve``) on 127.0.0.1 and always stops it (and its workers).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import nuserve
from nuserve.nuclio.spec_env import encode_spec

LOADS_ENV = "NUSERVE_TEST_LOADS"
CALLS_ENV = "NUSERVE_TEST_CALLS"


def _append(env: str, line: str) -> None:
    path = os.environ.get(env)
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


class CountingEcho(nuserve.V2ModelServer):
    """Echo that appends its PID to ``$NUSERVE_TEST_LOADS`` on load and each input to
    ``$NUSERVE_TEST_CALLS`` on predict."""

    def load(self) -> None:
        self.model = "echo"
        _append(LOADS_ENV, str(os.getpid()))

    def predict(self, request: dict[str, Any]) -> Any:
        _append(CALLS_ENV, repr(request["inputs"]))
        return request["inputs"]


class EnvReader(nuserve.V2ModelServer):
    """Answers the values of the environment variables named in its inputs."""

    def load(self) -> None:
        self.model = "env"

    def predict(self, request: dict[str, Any]) -> Any:
        return [os.environ.get(name) for name in request["inputs"]]


class SpecModel(nuserve.V2ModelServer):
    """Reads its model spec (``model_path``); answers the sum of each row, as an int."""

    def load(self) -> None:
        self.get_model()
        self.model = "sum"

    def predict(self, request: dict[str, Any]) -> Any:
        import numpy as np

        return np.asarray(request["inputs"]).sum(axis=1).astype(np.int64)


class Mean(nuserve.V2ModelServer):
    """Answers the mean of its one tensor (a small answer to a large request)."""

    def load(self) -> None:
        self.model = "mean"
        _append(LOADS_ENV, str(os.getpid()))

    def predict(self, request: dict[str, Any]) -> Any:
        import numpy as np

        return np.array([float(np.asarray(request["inputs"]).mean())])


def write_function_yaml(
    path: Path,
    models: dict[str, str],
    triggers: dict[str, Any] | None = None,
    max_body_size: int | None = None,
    env: dict[str, str] | None = None,
    configure: Callable[[Any], None] | None = None,
    model_args: dict[str, dict[str, Any]] | None = None,
    tracking: str | None = None,
) -> Path:
    """A function.yaml serving ``models`` (key → class path), as the Nuclio deployer reads it;
    ``model_args`` are more ``add_model`` arguments per key (``model_path``...), and
    ``configure(fn)`` may set more on the function (``set_streaming``, class args)."""
    fn = nuserve.new_function("t")
    for key, class_name in models.items():
        fn.add_model(key, class_name=class_name, **(model_args or {}).get(key, {}))
    if configure is not None:
        configure(fn)
    if max_body_size is not None:
        fn.spec.max_body_size = max_body_size
    if tracking is not None:
        fn.set_tracking(tracking, batch=1)
    spec = fn.spec.serving_spec().to_dict()
    doc = {
        "metadata": {"name": "t"},
        "spec": {
            "runtime": "python:3.11",
            "handler": "handler:handler",
            "env": [
                {"name": "NUSERVE_SPEC", "value": encode_spec(spec)},
                *({"name": k, "value": v} for k, v in (env or {}).items()),
            ],
            "triggers": triggers or {},
        },
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def request(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10
) -> tuple[int, bytes]:
    """One request on a new connection; ``(status, body)``."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class ThreadName(nuserve.V2ModelServer):
    """Answers its input beside the name of the thread its ``predict`` ran in (``thread``)."""

    def predict(self, request: dict[str, Any]) -> Any:
        import threading

        return {"echo": request["inputs"], "thread": [threading.current_thread().name]}


class AsyncThreadName(nuserve.V2ModelServer):
    """``ThreadName`` with an ``async def predict``: an async graph, answered on the loop."""

    async def predict(self, request: dict[str, Any]) -> Any:
        import asyncio
        import threading

        await asyncio.sleep(0.001)
        return {"echo": request["inputs"], "thread": [threading.current_thread().name]}


class BatchedEcho(nuserve.V2ModelServer):
    """Echo whose ``predict`` is batched (class args ``max_batch_size``...); it appends the
    size of each batch it saw to ``$NUSERVE_TEST_CALLS``."""

    def predict(self, request: dict[str, Any]) -> Any:
        import numpy as np

        inputs = np.asarray(request["inputs"])
        _append(CALLS_ENV, f"batch {len(inputs)}")
        return inputs


class Failing(nuserve.V2ModelServer):
    """``predict`` raises (a bug in user code: 500)."""

    def predict(self, request: dict[str, Any]) -> Any:
        raise ValueError("the model is broken")


class Slow(nuserve.V2ModelServer):
    """Echo after ``$NUSERVE_TEST_SLOW`` seconds (1 s by default)."""

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(float(os.environ.get("NUSERVE_TEST_SLOW", "1")))
        return request["inputs"]


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout}s")


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (uvicorn's workers and multiprocessing's tracker)."""
    try:
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


@dataclass
class Served:
    """A running ``nuserve serve`` process."""

    process: subprocess.Popen[bytes]
    port: int
    loads: Path
    calls: Path
    log: Path

    def ready(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return request(self.port, "GET", "/v2/health/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def load_pids(self) -> list[int]:
        return [int(line) for line in self.loads.read_text().split()] if self.loads.exists() else []

    def calls_seen(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def counted(self, model: str, op: str) -> int:
        """``nuserve_requests_total{model, op}`` from ``/metrics`` (0 when absent)."""
        status, body = request(self.port, "GET", "/metrics")
        assert status == 200
        pattern = rf'^nuserve_requests_total\{{model="{model}",op="{op}"\}} (\d+)$'
        found = re.search(pattern, body.decode(), re.M)
        return int(found.group(1)) if found else 0


@contextlib.contextmanager
def serve(
    spec: Path, workers: int = 2, timeout: float = 30, args: Sequence[str] = ()
) -> Iterator[Served]:
    """Start the server on a free port, wait until every worker loaded, stop it at the end;
    ``args`` are more options of ``nuserve serve``."""
    tmp, port = spec.parent, free_port()
    loads, calls, log = tmp / "loads.txt", tmp / "calls.txt", tmp / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        LOADS_ENV: str(loads),
        CALLS_ENV: str(calls),
    }
    env.pop("NUSERVE_SPEC", None)
    env.pop("NUSERVE_GRPC_PORT", None)
    command = [sys.executable, "-m", "nuserve.cli", "serve", str(spec), "--host", HOST]
    command += ["--port", str(port), "--workers", str(workers), *args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=tmp, stdout=out, stderr=out)
    served = Served(process, port, loads, calls, log)
    try:
        wait_until(served.ready, timeout, "the server answering /v2/health/ready")
        wait_until(lambda: len(served.load_pids()) == workers, timeout, "every worker loading")
        yield served
    finally:
        stop(served.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s; workers left behind are killed too."""
    workers = children(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
