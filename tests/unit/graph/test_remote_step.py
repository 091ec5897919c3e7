"""RemoteStep and BatchHttpRequests against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nuserve
from nuserve.serving.remote import BatchHttpRequests, RemoteStep
from nuserve.serving.utils import event_id_key, event_path_key

pytestmark = pytest.mark.integration


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, object]] = []
    fail_first: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(size) if size else b""
        self.seen.append({"method": self.command, "path": self.path, "body": data,
                          "headers": dict(self.headers)})  # fmt: skip
        left = self.fail_first.get(self.path, 0)
        if left:
            self.fail_first[self.path] = left - 1
            return self._send(500, b"failed", "text/plain")
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/missing":
            return self._send(404, b"no such thing", "text/plain")
        if self.path.startswith("/echo"):
            return self._send(200, data, "text/plain")
        out = {"method": self.command, "path": self.path, "got": data.decode() or None}
        return self._send(200, json.dumps(out).encode(), "application/json")

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.seen, Recorder.fail_first = [], {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def echo(x):
    return x


def serve(engine, step):
    fn = nuserve.new_function("remote")
    fn.set_topology("flow", engine=engine).to(name="s1", handler=echo).to(step).to(
        name="s3", handler=echo
    ).respond()
    return fn.to_mock_server()


ENGINES = ["sync", "async"]


@pytest.mark.parametrize("engine", ENGINES)
def test_sends_the_body_with_the_event_headers_not_the_callers(url, engine):
    step = RemoteStep(name="r", url=url, subpath="data", method="POST")
    answer = serve(engine, step).test("/from", {"x": 5}, headers={"X-Secret": "s"}, event_id="e1")
    assert answer == {"method": "POST", "path": "/data", "got": '{"x":5}'}
    headers = Recorder.seen[-1]["headers"]
    assert headers[event_id_key] == "e1" and headers[event_path_key] == "/from"
    assert "X-Secret" not in headers


@pytest.mark.parametrize("engine", ENGINES)
def test_paths_expressions_and_raw_answers(url, engine):
    step = RemoteStep(name="r", url=url, url_expression="endpoint + event['to']",
                      body_expression="event['data']", input_path="req", result_path="resp")  # fmt: skip
    answer = serve(engine, step).test(body={"req": {"to": "/x", "data": [1]}})
    assert answer["resp"] == {"method": "POST", "path": "/x", "got": "[1]"}
    raw = serve(engine, RemoteStep(name="r", url=url, subpath="$path", return_json=False))
    assert raw.test("/echo/1", b"plain bytes") == b"plain bytes"


def test_the_dollar_remote_shortcut(url):
    fn = nuserve.new_function("remote")
    fn.set_topology("flow", engine="sync").to("$remote", "r", url=url, method="GET")
    assert fn.to_mock_server().test(body={"x": 1}) == {"method": "GET", "path": "/", "got": None}


@pytest.mark.parametrize("engine", ENGINES)
def test_retries_5xx_then_answers(url, engine):
    Recorder.fail_first["/data"] = 1
    step = RemoteStep(name="r", url=f"{url}/data", retries=1, backoff_factor=0.01)
    assert serve(engine, step).test(body={"a": 1})["path"] == "/data"
    assert len([s for s in Recorder.seen if s["path"] == "/data"]) == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_an_error_answer_is_502_naming_the_url_and_status(url, engine):
    server = serve(engine, RemoteStep(name="r", url=f"{url}/missing", retries=0))
    answer = server.test(body={"a": 1}, silent=True)
    assert answer.status_code == 502
    assert f"{url}/missing answered 404: no such thing" in answer.body["error"]
    assert server.test(body=None, method="GET", silent=True).status_code == 502  # still serving


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unreachable_url_is_502_naming_it(engine):
    dead = f"http://127.0.0.1:{free_port()}/x"
    answer = serve(engine, RemoteStep(name="r", url=dead, retries=1, backoff_factor=0.01)).test(
        body={"a": 1}, silent=True
    )
    assert answer.status_code == 502 and f"cannot reach {dead}" in answer.body["error"]
    assert "Traceback" not in answer.body["error"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_timeout_is_504(url, engine):
    step = RemoteStep(name="r", url=f"{url}/slow", timeout=0.3, retries=0)
    answer = serve(engine, step).test(body={"a": 1}, silent=True)
    assert answer.status_code == 504 and "timed out" in answer.body["error"]


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_requests_answer_in_order(url, engine):
    fn = nuserve.new_function("batch")
    fn.set_topology("flow", engine=engine).to(
        BatchHttpRequests(
            url_expression="event['url']",
            body_expression="event['data']",
            method="POST",
            input_path="req",
            result_path="resp",
        )
    ).respond()
    items = [{"url": f"{url}/echo/{i}", "data": i} for i in range(3)]
    assert fn.to_mock_server().test(body={"req": items})["resp"] == [0, 1, 2]


def test_to_dict_in_mlruns_shape():
    step = RemoteStep(name="r", url="/u", method="GET", input_path="a", result_path="b")
    assert step.to_dict() == {
        "class_name": "nuserve.graph.remote_step.RemoteStep",
        "name": "r",
        "class_args": {"url": "/u", "method": "GET", "return_json": True, "retries": 6},
        "input_path": "a",
        "result_path": "b",
    }
