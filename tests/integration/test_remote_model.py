"""Remote models against a real ``nuserve serve`` on 127.0.0.1 (and a scripted HTTP server);
a bandit router served over real HTTP.

The real server (``python -m nuserve.serve.workers``, one worker) serves the classes below by
dotted path; the local side is a mock server whose models forward to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import nuserve
from nuserve.nuclio.spec_env import encode_spec
from nuserve.routers.bandit import EpsilonGreedyRouter
from nuserve.routers.ensemble import VotingEnsemble
from tests.serve_models import HOST, Served, free_port, request, serve, write_function_yaml

pytestmark = pytest.mark.integration
HERE = "tests.integration.test_remote_model"


class Sleepy(nuserve.V2ModelServer):
    """Sleeps ``inputs[0][0]`` seconds, then answers its inputs."""

    def load(self) -> None:
        self.model = "sleepy"

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(float(request["inputs"][0][0]))
        return request["inputs"]


class Broken(nuserve.V2ModelServer):
    def load(self) -> None:
        self.model = "broken"

    def predict(self, request: dict[str, Any]) -> Any:
        raise ValueError("the weights are gone")


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    models = {
        "echo": "tests.serve_models.CountingEcho",  # serve() waits for its load
        "x": f"{HERE}.Sleepy",
        "broken": f"{HERE}.Broken",
    }
    spec = write_function_yaml(tmp_path_factory.mktemp("remote") / "function.yaml", models)
    with serve(spec, workers=1) as served:
        yield served


def local(url: str, key: str = "r", **args: Any) -> nuserve.MockServer:
    fn = nuserve.new_function("local")
    fn.add_model(key, model_url=url, **args)
    return fn.to_mock_server()


def url_of(served: Served, model: str = "x") -> str:
    return f"http://{HOST}:{served.port}/v2/models/{model}"


def test_requests_are_forwarded_and_answered_under_our_name(remote: Served) -> None:
    server = local(url_of(remote))
    out = server.test("/v2/models/r/infer", {"inputs": [[0, 1]]}, event_id="req-1")
    assert (out["id"], out["model_name"], out["outputs"]) == ("req-1", "r", [[0, 1]])
    raw = server.test("/v2/models/r/predict", b'{"inputs": [[0, 2]]}', content_type="text/plain")
    assert raw["outputs"] == [[0, 2]]
    oip = {"inputs": [{"name": "t", "shape": [1, 2], "datatype": "FP64", "data": [0, 3]}]}
    out = server.test("/v2/models/r/infer", oip)
    assert out["outputs"][0]["data"] == [0.0, 3.0] and out["model_name"] == "r"
    assert server.test("/v1/models/r:predict", {"instances": [[0, 4]]}) == {"predictions": [[0, 4]]}
    response = asyncio.run(server.run_async(nuserve.Event({"inputs": [[0, 5]]}, "/v2/models/r")))
    assert (response.status_code, response.body["outputs"]) == (200, [[0, 5]])


def test_connections_are_kept_alive_and_shared_by_threads(remote: Served) -> None:
    server = local(url_of(remote))
    model = server.root.routes["r"]
    for i in range(5):
        assert server.test("/v2/models/r/infer", {"inputs": [[0, i]]})["outputs"] == [[0, i]]
    assert len(model.client._idle) == 1  # one connection did all five
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                out = server.root.dispatch(nuserve.Event({"inputs": [[0, n, i]]}, "/v2/models/r"))
                body = asyncio.run(out).body if not isinstance(out, nuserve.Response) else out.body
                assert body["outputs"] == [[0, n, i]]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert 1 <= len(model.client._idle) <= 6
    model.close()


def test_a_slow_remote_is_a_504(remote: Served) -> None:
    server = local(url_of(remote), timeout=0.3)
    start = time.perf_counter()
    err = server.test("/v2/models/r/infer", {"inputs": [[0.8]]}, silent=True, get_body=False)
    elapsed = time.perf_counter() - start
    assert (err.status_code, err.body["error"]) == (
        504,
        f"remote model {url_of(remote)} did not answer within 0.3 s (the timeout= argument "
        "of add_model)",
    )
    assert elapsed < 0.7  # not retried
    # the remote's only worker is still busy with the request given up on: wait for it
    patient = local(url_of(remote), timeout=5)
    assert patient.test("/v2/models/r/infer", {"inputs": [[0]]})["outputs"] == [[0]]


def test_remote_errors_keep_their_status_and_message(remote: Served) -> None:
    missing = url_of(remote, "nope")
    err = local(missing).test("/v2/models/r/infer", {"inputs": [[0]]}, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (
        404,
        f"{missing}/infer answered 404: model 'nope' not found (models: broken, echo, x)",
    )
    broken = url_of(remote, "broken")
    err = local(broken).test("/v2/models/r/infer", {"inputs": [[0]]}, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (
        500,
        f"{broken}/infer answered 500: model 'broken' raised in infer: ValueError: the weights "
        "are gone",
    )
    err = local(url_of(remote)).test("/v2/models/r/infer", b"{", silent=True, get_body=False)
    assert err.status_code == 400 and "is not valid JSON" in err.body["error"]


def test_a_server_that_is_down_is_a_502() -> None:
    url = f"http://{HOST}:{free_port()}/v2/models/x"
    server = local(url, retries=2, backoff=0.01)
    err = server.test("/v2/models/r/infer", {"inputs": [[0]]}, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (
        502,
        f"remote model {url} is unreachable (ConnectionRefusedError: [Errno 111] Connection "
        "refused) after 3 attempts; is its server running?",
    )


def test_a_server_that_stops_between_requests_is_a_502(tmp_path: Path) -> None:
    spec = write_function_yaml(tmp_path / "function.yaml", {"x": "tests.serve_models.CountingEcho"})
    with serve(spec, workers=1) as served:
        server = local(url_of(served), backoff=0.01)
        assert server.test("/v2/models/r/infer", {"inputs": [1]})["outputs"] == [1]
    err = server.test("/v2/models/r/infer", {"inputs": [1]}, silent=True, get_body=False)
    assert err.status_code == 502 and "is unreachable" in err.body["error"]


def test_metadata_comes_from_the_remote(remote: Served) -> None:
    meta = local(url_of(remote)).test("/v2/models/r")
    assert meta["name"] == "r" and meta["remote"] == url_of(remote)
    assert meta["operations"] == ["infer", "predict", "explain"]
    down = f"http://{HOST}:{free_port()}/v2/models/x"
    meta = local(down).test("/v2/models/r")
    assert meta["name"] == "r" and meta["remote_error"].startswith("ConnectionRefusedError")


def test_an_ensemble_of_remote_and_local_models(remote: Served) -> None:
    fn = nuserve.new_function("ens")
    fn.set_topology("router", class_name=VotingEnsemble, name="ens", vote_type="regression")
    fn.add_model("far", model_url=url_of(remote))
    fn.add_model("near", class_name=Sleepy)
    server = fn.to_mock_server()
    assert server.test("/v2/models/ens/infer", {"inputs": [[0.0, 4.0]]})["outputs"] == [[0.0, 4.0]]
    event = nuserve.Event({"inputs": [[0.0, 2.0]]}, "/v2/models/ens/infer")
    assert asyncio.run(server.run_async(event)).body["outputs"] == [[0.0, 2.0]]


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers 503 ``failures`` times, then 200; records what it was sent."""

    protocol_version = "HTTP/1.1"
    failures = 0
    hang_up = False
    """Close each connection after answering, though the answer says keep-alive."""
    seen: list[tuple[str, str | None, str | None, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Scripted.seen.append(
            (self.path, self.headers["X-Request-Id"], self.headers["Content-Type"], body)
        )
        if Scripted.failures > 0:
            Scripted.failures -= 1
            self.answer(503, {"error": "warming up"}, {"Retry-After": "7"})
        else:
            self.answer(200, {"id": "remote-id", "model_name": "theirs", "outputs": [1]})
        self.close_connection = Scripted.hang_up

    def answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def scripted(failures: int, hang_up: bool = False) -> Iterator[str]:
    Scripted.failures, Scripted.seen, Scripted.hang_up = failures, [], hang_up
    httpd = http.server.ThreadingHTTPServer((HOST, 0), Scripted)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{httpd.server_address[1]}/v2/models/theirs"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_503_is_retried_with_the_same_request() -> None:
    with scripted(failures=2) as url:
        server = local(url, retries=2, backoff=0.01)
        out = server.test("/v2/models/r/infer", b'{"inputs": [1]}', event_id="e-9",
                          content_type="application/json; charset=utf-8")  # fmt: skip
        assert out["outputs"] == [1] and out["model_name"] == "r"
        sent = {(path, rid, ctype, body) for path, rid, ctype, body in Scripted.seen}
        assert sent == {
            ("/v2/models/theirs/infer", "e-9", "application/json; charset=utf-8",
             b'{"inputs": [1]}'),
        }  # fmt: skip
        assert len(Scripted.seen) == 3
        server.root.routes["r"].close()
    with scripted(failures=5) as url:
        server = local(url, retries=1, backoff=0.01)
        err = server.test("/v2/models/r/infer", {"inputs": [1]}, silent=True, get_body=False)
        assert (err.status_code, err.headers) == (503, {"Retry-After": "7"})
        assert err.body["error"] == f"{url}/infer answered 503: warming up"
        assert len(Scripted.seen) == 2
        server.root.routes["r"].close()


def test_a_body_is_forwarded_as_it_came_or_as_json() -> None:
    """A JSON string Nuclio decoded (``application/json``) went out as bare text: ``abc``.

    The events are built as Nuclio's adapter builds them: the mock's ``test()`` sends text
    under a JSON content type as a client would (bytes), MLRun's rule."""
    cases = [
        ("abc", "application/json", b'"abc"', "application/json"),
        ('{"inputs": [1]}', None, b'{"inputs": [1]}', "application/json"),
        ("a,b", "text/csv", b"a,b", "text/csv"),
        ({"inputs": [2]}, "application/json", b'{"inputs":[2]}', "application/json"),
    ]
    with scripted(failures=0) as url:
        server = local(url)
        for body, ctype, _, _ in cases:
            server.run(nuserve.Event(body, "/v2/models/r/infer", "POST", None, ctype))
        assert [(c, b) for _, _, c, b in Scripted.seen] == [(c, b) for *_, b, c in cases]
        server.root.routes["r"].close()


def test_a_bandit_served_over_http_learns_from_feedback(tmp_path: Path) -> None:
    fn = nuserve.new_function("t")
    fn.set_topology("router", class_name=EpsilonGreedyRouter, name="bandit", seed=1, epsilon=0)
    fn.add_model("a", class_name="tests.serve_models.CountingEcho")
    fn.add_model("b", class_name=f"{HERE}.Sleepy")
    doc = {
        "metadata": {"name": "t"},
        "spec": {
            "runtime": "python:3.11",
            "handler": "handler:handler",
            "env": [
                {"name": "NUSERVE_SPEC", "value": encode_spec(fn.spec.serving_spec().to_dict())}
            ],
        },
    }
    spec = tmp_path / "function.yaml"
    spec.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with serve(spec, workers=1) as served:
        for _ in range(2):  # each model is tried once: "a" gets reward 0, "b" gets 1
            status, body = request(served.port, "POST", "/v2/models/infer", b'{"inputs": [[0]]}')
            assert status == 200, body
            answer = json.loads(body)
            model = answer["model_name"]
            feedback = json.dumps({"id": answer["id"], "reward": int(model == "b")}).encode()
            status, body = request(served.port, "POST", "/v2/models/bandit/feedback", feedback)
            assert status == 200 and json.loads(body)["model"] == model, body
        for _ in range(5):
            status, body = request(
                served.port, "POST", "/v2/models/bandit/infer", b'{"inputs": [[0]]}'
            )
            assert json.loads(body)["model_name"] == "b"
        status, body = request(served.port, "GET", "/v2/models/bandit")
        state = json.loads(body)["state"]["models"]
        assert (state["a"]["mean_reward"], state["b"]["mean_reward"]) == (0.0, 1.0)
        status, body = request(served.port, "POST", "/v2/models/bandit/feedback", b'{"model": "b"}')
        assert status == 400 and "'reward' must be a number" in json.loads(body)["error"]


def test_a_kept_alive_connection_the_server_closed_is_replaced() -> None:
    with scripted(failures=0, hang_up=True) as url:
        server = local(url, retries=0)
        for _ in range(3):  # retries=0: the stale connection costs no retry
            assert server.test("/v2/models/r/infer", {"inputs": [1]})["outputs"] == [1]
        assert len(Scripted.seen) == 3
        server.root.routes["r"].close()
