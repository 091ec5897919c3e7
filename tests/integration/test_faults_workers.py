"""A worker of ``nuserve serve --workers 2`` SIGKILLed under load (issue 9, faults).

uvicorn's supervisor replaces the dead worker; the replacement runs its lifespan startup
(``init_context``: the model loads) before it accepts a connection, since until then it does
not listen. Meanwhile the other worker answers everything: the only requests that fail are
those the killed worker held (one per client at most: the request in flight, or the next
one on a keep-alive connection it had accepted).
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.faults_load import HttpLoad, Outcome
from tests.serve_models import (
    CountingEcho,
    children,
    request,
    serve,
    wait_until,
    write_function_yaml,
)

pytestmark = pytest.mark.integration
THREADS, KEEP_ALIVE = 4, 2


class PidEcho(CountingEcho):
    """Answers the PID of the worker that ran it (and logs its load as CountingEcho does)."""

    def predict(self, request: dict[str, Any]) -> Any:
        return [os.getpid(), request["inputs"]]


def pid_of(outcome: Outcome) -> int:
    return int(orjson.loads(outcome.body)["outputs"][0])


def counted(port: int) -> tuple[int, set[int], int]:
    """``(requests to p, worker pids, worker inits)`` from ``/metrics``."""
    status, body = request(port, "GET", "/metrics")
    assert status == 200, body
    text = body.decode()
    total = re.search(r'^nuserve_requests_total\{model="p",op="infer"\} (\d+)$', text, re.M)
    pids = {int(p) for p in re.findall(r'^nuserve_worker_info\{pid="(\d+)"\} 1$', text, re.M)}
    inits = re.search(r"^nuserve_worker_inits_total (\d+)$", text, re.M)
    assert inits is not None, text
    return (int(total.group(1)) if total else 0), pids, int(inits.group(1))


def test_a_worker_killed_under_load_is_replaced_and_the_other_keeps_answering(
    tmp_path: Path,
) -> None:
    spec = write_function_yaml(tmp_path / "function.yaml", {"p": f"{__name__}.PidEcho"})
    with serve(spec, workers=2) as served:
        victim, survivor = served.load_pids()
        load = HttpLoad(
            served.port, "/v2/models/p/infer", lambda n: orjson.dumps({"inputs": [n]}),
            threads=THREADS, keep_alive=KEEP_ALIVE, timeout=10, limit_s=90,
        )  # fmt: skip
        load.start()
        try:
            wait_until(lambda: load.count() >= 300, 30, "300 requests answered before the kill")
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            wait_until(lambda: len(served.load_pids()) == 3, 60, "a replacement worker loading")
            replacement = served.load_pids()[2]

            def replacement_answered() -> bool:
                return any(o.status == 200 and pid_of(o) == replacement for o in load.done())

            wait_until(replacement_answered, 30, "the replacement answering")
            time.sleep(1)  # a little more load on both workers
        finally:
            outcomes = load.stop()

        assert replacement not in (victim, survivor)
        assert victim not in children(served.process.pid)
        assert {survivor, replacement} <= children(served.process.pid)
        answered = [o for o in outcomes if o.status is not None]
        failed = [o for o in outcomes if o.status is None]
        # no 503 "not started": the replacement took no request before its models loaded
        assert all(o.status == 200 for o in answered), Counter(o.status for o in answered)
        by_pid = Counter(pid_of(o) for o in answered)
        assert set(by_pid) <= {victim, survivor, replacement}, by_pid
        # only requests the killed worker held fail: at most one per client, none before the
        # kill, and every client's next request succeeds (on a new connection)
        assert all(o.ended >= killed_at for o in failed), failed
        per_client = Counter(o.client for o in failed)
        assert all(n == 1 for n in per_client.values()), failed
        assert len(failed) <= THREADS
        assert not any(pid_of(o) == victim for o in answered if o.began > killed_at)
        first_new = min(o.ended for o in answered if pid_of(o) == replacement)
        gap = [o for o in answered if killed_at < o.began and o.ended < first_new]
        assert gap and all(pid_of(o) == survivor for o in gap)

        # /metrics sums the live workers: the survivor's and the replacement's counts
        live = by_pid[survivor] + by_pid[replacement]
        wait_until(
            lambda: counted(served.port) == (live, {survivor, replacement}, 2),
            10,
            f"/metrics counting {live} requests of 2 live workers (got {counted(served.port)})",
        )
        print(
            f"\n{len(outcomes)} requests: {len(failed)} failed with the killed worker "
            f"({sorted(o.error for o in failed)}); replacement answering "
            f"{first_new - killed_at:.2f}s after the kill; {len(gap)} answered by the "
            f"survivor meanwhile"
        )
    assert "Traceback" not in served.log.read_text()
