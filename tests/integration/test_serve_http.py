"""``python -m nuserve.serve.workers``: real uvicorn workers answering real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.serve_models import (
    ROOT,
    Served,
    children,
    request,
    serve,
    wait_until,
    write_function_yaml,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    spec = write_function_yaml(
        tmp_path / "function.yaml",
        {"e": "tests.serve_models.CountingEcho", "env": "tests.serve_models.EnvReader"},
        env={"NUSERVE_TEST_FROM_YAML": "from function.yaml"},
    )
    with serve(spec, workers=2) as server:
        yield server


def infer(served: Served, i: int) -> tuple[int, bytes]:
    return request(served.port, "POST", "/v2/models/e/infer", orjson.dumps({"inputs": [i]}))


def test_serve_says_where_it_listens_and_each_worker_what_it_serves(served: Served) -> None:
    """``nuserve serve`` once printed nothing at all by default."""
    url = f"http://127.0.0.1:{served.port}"
    wait_until(lambda: served.log.read_text().count(" serving ") == 2, 10, "two worker lines")
    lines = served.log.read_text().splitlines()
    assert any(
        line.startswith(f"nuserve serve: {url}, 2 workers, loading models: e, env")
        for line in lines
    ), lines
    workers = [line for line in lines if line.startswith("nuserve serve: worker ")]
    assert len(workers) == 2, lines
    for line in workers:
        assert re.fullmatch(
            rf"nuserve serve: worker \d+ serving {url} \(\d+\.\d s\): e \(ready\), env \(ready\)",
            line,
        ), line


def test_two_workers_answer_count_and_stop_on_sigterm(served: Served) -> None:
    for i in range(50):
        status, body = infer(served, i)
        assert status == 200, body
        assert orjson.loads(body)["outputs"] == [i]

    pids = served.load_pids()
    assert len(pids) == 2 and len(set(pids)) == 2  # init_context once in each worker
    assert set(pids) <= children(served.process.pid)  # (multiprocessing's tracker is one too)

    wait_until(lambda: served.counted("e", "infer") == 50, 10, "/metrics counting 50 requests")
    text = request(served.port, "GET", "/metrics")[1].decode()
    assert "nuserve_worker_inits_total 2" in text
    assert all(f'nuserve_worker_info{{pid="{pid}"}} 1' in text for pid in pids)

    status, body = request(
        served.port, "POST", "/v2/models/env/infer", b'{"inputs": ["NUSERVE_TEST_FROM_YAML"]}'
    )
    assert orjson.loads(body)["outputs"] == ["from function.yaml"]  # spec.env, as Nuclio sets it

    status, body = request(served.port, "POST", "/v2/models/nope/infer", b'{"inputs": [1]}')
    assert status == 404 and set(orjson.loads(body)) == {"error", "id"}

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(10) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert "Traceback" not in served.log.read_text()


def test_a_killed_worker_is_replaced_and_the_other_keeps_answering(served: Served) -> None:
    first, second = served.load_pids()
    os.kill(first, signal.SIGKILL)

    for i in range(20):  # new connections: the listening socket is shared by both workers
        status, body = infer(served, i)
        assert status == 200, body

    wait_until(lambda: len(served.load_pids()) == 3, 30, "a replacement worker loading the model")
    replacement = served.load_pids()[2]
    assert replacement not in (first, second)
    wait_until(lambda: first not in children(served.process.pid), 10, "the dead worker reaped")
    assert {second, replacement} <= children(served.process.pid)
    wait_until(served.ready, 10, "the server answering after the restart")

    def metrics() -> str:
        return request(served.port, "GET", "/metrics")[1].decode()

    # the replacement writes its first snapshot just after loading
    wait_until(lambda: "nuserve_worker_inits_total 2" in metrics(), 10, "two live workers")
    assert f'pid="{first}"' not in metrics()  # a dead worker's counts are dropped with it

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(10) == 0


def test_a_worker_that_cannot_start_stops_the_server_with_the_reason(tmp_path: Path) -> None:
    spec = write_function_yaml(tmp_path / "function.yaml", {"e": "tests.models.BrokenLoad"})
    command = [sys.executable, "-m", "nuserve.serve.workers", str(spec), "--port", "0"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 1
    assert "nuserve serve: nuserve worker" in done.stderr.decode()
    assert "failed to load: FileNotFoundError: weights.bin is missing" in done.stderr.decode()
