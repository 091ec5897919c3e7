"""A model whose ``predict`` hangs, under ``nuserve serve --workers 2`` with
``request_timeout`` (issue 9, faults): each hanging request is answered 504 JSON once the
timeout passes, and every other request keeps being answered, by both workers, meanwhile.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

import nuserve
from tests.integration.faults_load import HttpLoad
from tests.serve_models import CountingEcho, request, serve, wait_until

pytestmark = pytest.mark.integration
TIMEOUT = 1.0
HANGING = 4
"""Hanging requests sent at once (a lane refuses calls beyond 4 stuck ones: not reached)."""


class Hang(CountingEcho):
    """Sleeps 30 s (past any timeout here, and bounded) on input "hang"."""

    def predict(self, request: dict[str, Any]) -> Any:
        if request["inputs"] == ["hang"]:
            time.sleep(30)
        return request["inputs"]


class Pid(nuserve.V2ModelServer):
    """Answers the PID of the worker that ran it."""

    def load(self) -> None:
        self.model = "pid"

    def predict(self, request: dict[str, Any]) -> Any:
        return os.getpid()


def function_yaml(directory: Path) -> Path:
    fn = nuserve.new_function("timed")
    fn.add_model("hang", class_name=Hang)
    fn.add_model("pid", class_name=Pid)
    fn.with_http(request_timeout=TIMEOUT)
    fn.to_yaml(directory / "function.yaml")
    return directory / "function.yaml"


def errors_of(port: int, model: str) -> int:
    text = request(port, "GET", "/metrics")[1].decode()
    found = re.search(rf'^nuserve_request_errors_total\{{model="{model}",op="infer"\}} (\d+)$',
                      text, re.M)  # fmt: skip
    return int(found.group(1)) if found else 0


def test_hanging_predicts_get_504_and_both_workers_keep_answering(tmp_path: Path) -> None:
    with serve(function_yaml(tmp_path), workers=2) as served:
        workers = set(served.load_pids())
        load = HttpLoad(
            served.port, "/v2/models/pid/infer", lambda n: orjson.dumps({"inputs": [n]}),
            threads=4, keep_alive=0, timeout=10, limit_s=60,
        )  # fmt: skip
        hung: list[tuple[int, bytes, float]] = []

        def hang() -> None:
            began = time.monotonic()
            status, body = request(served.port, "POST", "/v2/models/hang/infer",
                                   b'{"inputs": ["hang"]}', timeout=10)  # fmt: skip
            hung.append((status, body, time.monotonic() - began))

        load.start()
        try:
            wait_until(lambda: load.count() >= 50, 20, "the load answered before the hangs")
            began = time.monotonic()
            threads = [threading.Thread(target=hang, daemon=True) for _ in range(HANGING)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(15)
            ended = time.monotonic()
        finally:
            outcomes = load.stop()

        assert len(hung) == HANGING
        for status, body, took in hung:
            assert status == 504, body
            answer = orjson.loads(body)
            assert set(answer) == {"error", "id"}
            assert answer["error"].startswith(
                "model 'hang' did not answer within 1s (request_timeout in the serving spec); "
                "the call was abandoned"
            )
            assert TIMEOUT <= took < TIMEOUT + 1.0

        assert outcomes and all(o.status == 200 for o in outcomes), [
            (o.status, o.error) for o in outcomes if o.status != 200
        ]
        during = [o for o in outcomes if began <= o.began and o.ended <= ended]
        assert len(during) >= 20
        assert {orjson.loads(o.body)["outputs"] for o in during} == workers  # both answered
        slowest = max(o.ended - o.began for o in during)
        assert slowest < 0.5, f"a request waited {slowest:.2f}s behind the hanging ones"

        wait_until(lambda: errors_of(served.port, "hang") == HANGING, 10, "the 504s counted")
        assert errors_of(served.port, "pid") == 0
        text = request(served.port, "GET", "/metrics")[1].decode()
        assert f"nuserve_request_timeouts_total {HANGING}\n" in text
        assert f"nuserve_abandoned_calls {HANGING}\n" in text  # each still sleeps its 30 s
        print(
            f"\n{HANGING} answered 504 in {min(t for *_, t in hung):.2f}-"
            f"{max(t for *_, t in hung):.2f}s; {len(during)} other requests meanwhile, "
            f"slowest {slowest * 1000:.0f} ms"
        )
    log = served.log.read_text()
    assert "Traceback" not in log
    assert "abandoned in its thread" in log
