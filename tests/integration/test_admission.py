"""Admission control on a real ``nuserve serve``: past ``--max-in-flight`` requests let in and
not answered, one more is refused at once (503, ``Retry-After``) instead of waiting its turn.

The model is sync and slow (50 ms), so each request holds the event loop: requests queue as
tasks in the loop, where the app cannot count them (the protocol does). 24 clients at once
against a limit of 4: some are let in, the rest refused, and the worker goes on serving.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.serve_models import HOST, CountingEcho, Served, request, serve, write_function_yaml

pytestmark = pytest.mark.integration
LIMIT = 4
CLIENTS = 24


class Slow(CountingEcho):
    """Takes 50 ms per request, on the event loop (a sync predict)."""

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(0.05)
        return super().predict(request)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    spec = write_function_yaml(
        tmp_path_factory.mktemp("admission") / "function.yaml",
        {"slow": "tests.integration.test_admission.Slow"},
    )
    with serve(spec, workers=1, args=["--max-in-flight", str(LIMIT)]) as served:
        yield served


def post(port: int) -> tuple[int, dict[str, str], bytes, float]:
    began = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        body = b'{"inputs": [1]}'
        conn.request("POST", "/v2/models/slow/infer", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read(), time.monotonic() - began
    finally:
        conn.close()


def test_past_the_limit_requests_get_503_at_once_and_the_rest_are_served(server: Served) -> None:
    answers: list[tuple[int, dict[str, str], bytes, float]] = []
    start = threading.Barrier(CLIENTS)

    def client() -> None:
        start.wait(10)
        answers.append(post(server.port))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == CLIENTS
    served = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 503]
    assert len(served) + len(refused) == CLIENTS, [a[0] for a in answers]
    assert len(served) >= LIMIT and refused, [a[0] for a in answers]
    for _, headers, body, _ in refused:
        assert headers["retry-after"] == "1"
        error = json.loads(body)
        assert set(error) == {"error", "id"}
        assert f"answering {LIMIT} requests (max_in_flight)" in error["error"]
    # refused without waiting for the requests let in: faster than the slowest of those
    assert min(a[3] for a in refused) < max(a[3] for a in served)
    assert post(server.port)[0] == 200  # the worker goes on serving
    assert request(server.port, "GET", "/v2/health/live")[0] == 200
    assert server.counted("slow", "infer") == CLIENTS + 1


def test_a_stuck_count_cannot_build_up(server: Served) -> None:
    """Connections that leave before their answer give their place back."""
    for _ in range(3 * LIMIT):
        conn = http.client.HTTPConnection(HOST, server.port, timeout=5)
        conn.request("POST", "/v2/models/slow/infer", b'{"inputs": [1]}')
        conn.close()  # gone before the answer
    time.sleep(1)
    assert [post(server.port)[0] for _ in range(LIMIT + 1)] == [200] * (LIMIT + 1)
