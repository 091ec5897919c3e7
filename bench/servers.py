"""Servers for the HTTP benchmarks: the iris function.yamls, start/wait/stop, CPU pinning.

Every server runs as its own process group on 127.0.0.1 and is always stopped (SIGTERM, then
SIGKILL) by ``started``. Waiting is bounded: a server that does not answer 200 in time is an
error carrying the tail of its log.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nuserve

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
INFER = "/v2/models/iris/infer"
BODY = b'{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
IRIS_CODE = ROOT / "examples" / "iris" / "iris_model.py"
REPO_YAML = ROOT / "function.yaml"
REPO_MODEL = ROOT / "examples" / "iris" / "model" / "model.pkl"


@dataclass(frozen=True)
class Iris:
    """A trained iris model and the function.yamls that serve it."""

    model_dir: Path
    plain_yaml: Path
    """The served function.yaml: the repo's own when its model is trained, else a copy."""
    batched_yaml: Path
    """The same function with ``max_batch_size=32, max_batch_time_ms=2``."""


def prepare_iris(tmp: Path) -> Iris:
    """Train the iris model into ``tmp`` and write the batched (and, if needed, plain) yaml."""
    model_dir = tmp / "model"
    train = [sys.executable, str(ROOT / "examples" / "iris" / "train.py"), str(model_dir)]
    subprocess.run(train, check=True, cwd=ROOT, capture_output=True, timeout=120)
    batched = write_iris_yaml(
        tmp / "batched.yaml", model_dir, max_batch_size=32, max_batch_time_ms=2
    )
    plain = REPO_YAML if REPO_MODEL.is_file() else write_iris_yaml(tmp / "plain.yaml", model_dir)
    return Iris(model_dir, plain, batched)


def write_iris_yaml(path: Path, model_dir: Path, **batching: float) -> Path:
    """``examples/iris/function.py``'s function, serving ``model_dir``, with ``batching``."""
    fn = nuserve.code_to_function("iris", filename=str(IRIS_CODE), kind="serving")
    fn.set_topology("router")
    fn.add_model("iris", class_name="IrisClassifier", model_path=str(model_dir), **batching)
    fn.to_yaml(path)
    return path


def nuserve_command(function_yaml: Path, workers: int = 1) -> list[str]:
    """``nuserve serve function.yaml --workers N`` (the console script; ``started`` adds a port)."""
    script = Path(sys.executable).with_name("nuserve")
    base = [str(script)] if script.is_file() else [sys.executable, "-m", "nuserve.cli"]
    return [*base, "serve", str(function_yaml), "--workers", str(workers)]


def bare_command(model_dir: Path) -> list[str]:
    """The bare ASGI floor serving the same model (``started`` adds a port)."""
    bare = Path(__file__).with_name("bare_asgi.py")
    return [sys.executable, str(bare), "--model", str(model_dir)]


def cores() -> tuple[int | None, int | None]:
    """(server core, load generator core), or ``(None, None)`` when pinning is not possible."""
    if not hasattr(os, "sched_setaffinity"):
        return None, None
    available = sorted(os.sched_getaffinity(0))
    return (available[0], available[1]) if len(available) >= 2 else (None, None)


def pinned(core: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child (and what it starts) to ``core``."""
    if core is None:
        return None
    return lambda: os.sched_setaffinity(0, {core})


PIDS: dict[int, int] = {}
"""Port → pid of the process group ``started`` runs there (for CPU and RSS accounting)."""


def group_pids(leader: int) -> list[int]:
    """The processes of session ``leader`` (``started`` makes each server a session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == leader:  # field 6 of stat: the session id
                    found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` (all their threads)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pin_all_threads(pid: int, core: int | None) -> None:
    """Pin every thread of ``pid`` to ``core`` (``sched_setaffinity`` moves one thread)."""
    if core is None:
        return
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), {core})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def post(port: int, path: str = INFER, body: bytes = BODY, timeout: float = 2) -> int:
    """The status of one POST on a new connection; raises ``OSError`` when nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def wait_for_200(
    port: int,
    process: subprocess.Popen[bytes],
    timeout: float,
    path: str = INFER,
    body: bytes = BODY,
) -> float:
    """Seconds until the first 200 on ``path`` (polls every 10 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if post(port, path, body) == 200:
                return time.perf_counter() - start
        time.sleep(0.01)
    raise TimeoutError(f"no 200 on {path} within {timeout} s")


def start(command: list[str], log: Path, core: int | None = None) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        env = {k: v for k, v in os.environ.items() if k != "NUSERVE_SPEC"}
        return subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=pinned(core),  # noqa: PLW1509 - no threads here
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)


@contextlib.contextmanager
def started(
    command: list[str],
    log: Path,
    core: int | None = None,
    timeout: float = 60,
    path: str = INFER,
    body: bytes = BODY,
) -> Iterator[int]:
    """Run ``command`` (it gets ``--port``) until the block ends; yields the port."""
    port = free_port()
    process = start([*command, "--port", str(port)], log, core)
    try:
        try:
            wait_for_200(port, process, timeout, path, body)
        except (RuntimeError, TimeoutError) as exc:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)}: {exc}\n{tail}") from None
        PIDS[port] = process.pid
        yield port
    finally:
        PIDS.pop(port, None)
        stop(process)
