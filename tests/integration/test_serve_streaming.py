"""``nuserve serve`` streams a generator ``predict`` (``set_streaming``): chunked HTTP, each
chunk on the wire before the next is made; a client that leaves closes the generator."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.serve_models import Served, request, serve, wait_until, write_function_yaml

pytestmark = pytest.mark.integration


@pytest.fixture
def served(tmp_path: Path, monkeypatch) -> Iterator[Served]:
    closed = tmp_path / "closed.txt"
    monkeypatch.setenv("NUSERVE_TEST_CLOSED", str(closed))
    spec = write_function_yaml(
        tmp_path / "function.yaml",
        {"e": "tests.serve_models.CountingEcho", "t": "tests.streaming_models.Tokens"},
        configure=lambda fn: fn.set_streaming(True),
    )
    with serve(spec, workers=1) as server:
        yield server


def test_chunks_arrive_one_by_one_chunked(served: Served) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    body = orjson.dumps({"inputs": ["one two three"], "delay": 0.3})
    started = time.perf_counter()
    conn.request("POST", "/v2/models/t/infer", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Type").startswith("text/plain")
    first = response.read1()
    first_at = time.perf_counter() - started
    rest = response.read()
    total = time.perf_counter() - started
    assert first == b"one "
    assert rest == b"two three "
    assert first_at < total - 0.4, (first_at, total)  # the first chunk came before the rest
    conn.close()
    status, echoed = request(served.port, "POST", "/v2/models/e/infer", b'{"inputs": [1]}')
    assert status == 200 and orjson.loads(echoed)["outputs"] == [1]


def test_a_client_leaving_closes_the_generator_and_the_server_keeps_serving(served: Served, tmp_path: Path) -> None:
    words = " ".join(f"w{i}" for i in range(200))
    body = orjson.dumps({"inputs": [words], "delay": 0.05})
    head = (
        f"POST /v2/models/t/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head + body)
        assert b"200" in sock.recv(4096).split(b"\r\n", 1)[0]
    closed = tmp_path / "closed.txt"
    wait_until(lambda: closed.exists() and "sync" in closed.read_text(), 5, "the generator closed")
    assert "Traceback" not in served.log.read_text()
    status, _ = request(served.port, "POST", "/v2/models/e/infer", b'{"inputs": [2]}')
    assert status == 200
