"""Admission control on a real ``nuserve serve``: past ``--max-in-flight`` requests let in and
not answered, one more is refused at once (503, ``Retry-After``) instead of waiting its turn.

The model is sync and slow (50 ms), so each request holds the event loop: requests queue as
tasks in the loop, where the app cannot count them (the protocol does). 24 requests arrive
while the loop is held, against a limit of 4: four are let in, the rest refused at once, and
the worker goes on serving.
"""

from __future__ import annotations

import http.client
import json
import socket
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
    """Takes 50 ms per request (0.5 s for ``["block"]``), on the event loop (a sync predict)."""

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(0.5 if request["inputs"] == ["block"] else 0.05)
        return super().predict(request)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    spec = write_function_yaml(
        tmp_path_factory.mktemp("admission") / "function.yaml",
        {"slow": "tests.integration.test_admission.Slow"},
    )
    with serve(spec, workers=1, args=["--max-in-flight", str(LIMIT)]) as served:
        yield served


def post(port: int, body: bytes = b'{"inputs": [1]}') -> tuple[int, dict[str, str], bytes, float]:
    began = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("POST", "/v2/models/slow/infer", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read(), time.monotonic() - began
    finally:
        conn.close()


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes, float]:
    """One response from ``sock`` and when it came (``time.monotonic()``)."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(65536)
        assert chunk, got
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body, time.monotonic()


def test_past_the_limit_requests_get_503_at_once_and_the_rest_are_served(server: Served) -> None:
    """24 keep-alive connections send a request each while one request holds the loop; once
    it is done, the worker reads all 24 at once, lets four in and refuses the rest at once.
    (The connections are opened first: the worker accepts one new connection per turn of its
    loop, so new connections would be served one by one and never queue.)"""
    body = b'{"inputs": [1]}'
    head = (
        b"POST /v2/models/slow/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    sockets = [socket.create_connection((HOST, server.port), timeout=30) for _ in range(CLIENTS)]
    time.sleep(0.5)  # every connection accepted
    blocker = threading.Thread(target=post, args=(server.port, b'{"inputs": ["block"]}'))
    blocker.start()
    time.sleep(0.2)  # the worker is inside the blocking predict now
    try:
        for sock in sockets:
            sock.sendall(head + body)
        answers = [read_answer(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    blocker.join(30)
    statuses = [a[0] for a in answers]
    served = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 503]
    assert len(served) + len(refused) == CLIENTS, statuses
    assert (len(served), len(refused)) == (LIMIT, CLIENTS - LIMIT), statuses
    for _, headers, raw, _ in refused:
        assert headers["retry-after"] == "1"
        error = json.loads(raw)
        assert set(error) == {"error", "id"}
        assert f"answering {LIMIT} requests (max_in_flight)" in error["error"]
    assert post(server.port)[0] == 200  # the worker goes on serving
    assert request(server.port, "GET", "/v2/health/live")[0] == 200
    assert server.counted("slow", "infer") == CLIENTS + 2


def test_a_stuck_count_cannot_build_up(server: Served) -> None:
    """Connections that leave before their answer give their place back."""
    for _ in range(3 * LIMIT):
        conn = http.client.HTTPConnection(HOST, server.port, timeout=5)
        conn.request("POST", "/v2/models/slow/infer", b'{"inputs": [1]}')
        conn.close()  # gone before the answer
    time.sleep(1)
    assert [post(server.port)[0] for _ in range(LIMIT + 1)] == [200] * (LIMIT + 1)
