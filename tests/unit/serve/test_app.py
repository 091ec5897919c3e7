"""The ASGI app, driven in-process by a tiny hand-written ASGI client (no server, no socket)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from nuserve.serve import app as app_module
from nuserve.serve import auth
from nuserve.serve.app import App
from nuserve.serve.config import ServeConfig
from tests.models import Echo
from tests.serve_models import write_function_yaml

LIMIT = 4096


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    receives: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> Any:
        return orjson.loads(self.body)


async def call(
    app: App,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    chunk: int | None = None,
    query: bytes = b"",
) -> Answer:
    """Send one request through ``app(scope, receive, send)``; count the receive() calls."""
    size = chunk or max(len(body), 1)
    chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    receives = 0

    async def receive() -> dict[str, Any]:
        nonlocal receives
        receives += 1
        if receives <= len(chunks):
            return {
                "type": "http.request",
                "body": chunks[receives - 1],
                "more_body": receives < len(chunks),
            }
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }
    await asyncio.wait_for(app(scope, receive, send), 10)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"], sent
    response_headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return Answer(sent[0]["status"], response_headers, sent[1]["body"], receives, sent)


@contextlib.asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    """Lifespan startup before, shutdown after, as uvicorn drives it."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(from_app.get(), 30)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield app
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(from_app.get(), 30)
        assert stopped["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(task, 10)


@pytest.fixture
def config(tmp_path: Path) -> ServeConfig:
    path = write_function_yaml(
        tmp_path / "function.yaml",
        {"e": "tests.models.Echo", "bad": "tests.models.Raising"},
        max_body_size=LIMIT,
    )
    return ServeConfig(spec_path=str(path))


JSON = {"Content-Type": "application/json"}


def test_infer_answers_200_with_the_request_id(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            body = orjson.dumps({"inputs": [1, 2, 3]})
            return await call(
                app, "POST", "/v2/models/e/infer", body, {**JSON, "x-request-id": "r-1"}
            )

    answer = asyncio.run(main())
    assert answer.status == 200
    assert answer.json()["outputs"] == [1, 2, 3]
    assert answer.json()["model_name"] == "e"
    assert answer.headers["x-request-id"] == "r-1"  # found under its canonical name
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.body)


def test_query_string_is_not_part_of_the_path(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            body = orjson.dumps({"inputs": [7]})
            return await call(app, "POST", "/v2/models/e/infer", body, JSON, query=b"debug=1")

    assert asyncio.run(main()).json()["outputs"] == [7]


def test_raw_bytes_without_json_content_type_are_decoded_by_the_core(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            body = orjson.dumps({"inputs": [5]})
            return await call(
                app, "POST", "/v2/models/e/infer", body, {"Content-Type": "text/plain"}
            )

    assert asyncio.run(main()).json()["outputs"] == [5]


def test_a_json_string_body_is_decoded_once(tmp_path: Path) -> None:
    """The adapter decodes ``application/json`` bodies as Nuclio does; the core decoded a
    JSON string a second time: ``"abc"`` was "not valid JSON", and a string holding a JSON
    object ran inference."""
    path = write_function_yaml(
        tmp_path / "function.yaml", {"e": "tests.models.Echo", "s": "tests.models.Summer"}
    )

    async def main() -> list[Answer]:
        async with running(App(ServeConfig(spec_path=str(path)))) as app:
            inner = orjson.dumps(orjson.dumps({"inputs": [1]}).decode())
            return [
                await call(app, "POST", "/v2/models/s/describe", b'"abc"', JSON),
                await call(app, "POST", "/v2/models/s/describe", b'"[1]"', JSON),
                await call(app, "POST", "/v2/models/e/infer", inner, JSON),
                await call(app, "POST", "/", inner, JSON),
            ]

    described, looks_like_json, infer, routed = asyncio.run(main())
    assert (described.status, described.json()["got"]) == (200, "abc")
    assert (looks_like_json.status, looks_like_json.json()["got"]) == (200, "[1]")
    for answer in (infer, routed):
        assert (answer.status, answer.json()["error"]) == (
            400,
            'request body must be a JSON object (got str); send {"inputs": [[...], ...]}',
        )


def test_unknown_model_is_404_json(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            return await call(app, "POST", "/v2/models/nope/infer", b'{"inputs": [1]}', JSON)

    answer = asyncio.run(main())
    assert answer.status == 404
    assert "model 'nope' not found" in answer.json()["error"]
    assert answer.json()["id"]


def test_malformed_json_is_400(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            return await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1', JSON)

    answer = asyncio.run(main())
    assert answer.status == 400
    assert set(answer.json()) == {"error", "id"}


def test_body_over_the_limit_is_413_and_reading_stops(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            body = b"x" * (100 * 1024)
            return await call(app, "POST", "/v2/models/e/infer", body, JSON, chunk=1024)

    answer = asyncio.run(main())
    assert answer.status == 413
    assert "over the limit of 4096 bytes" in answer.json()["error"]
    assert answer.receives == 5  # 5 KiB read of 100 KiB: the first chunk past the limit
    assert answer.headers["connection"] == "close"


def test_declared_length_over_the_limit_is_413_before_reading(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            headers = {**JSON, "Content-Length": str(LIMIT + 1)}
            return await call(app, "POST", "/v2/models/e/infer", b"x" * (LIMIT + 1), headers)

    answer = asyncio.run(main())
    assert answer.status == 413
    assert answer.receives == 0


def test_the_servers_own_refusals_carry_the_clients_request_id(config: ServeConfig) -> None:
    """A 413 once answered a new id where the client had sent X-Request-Id (the graph's
    answers always carried it)."""

    async def main() -> tuple[Answer, Answer]:
        async with running(App(config)) as app:
            headers = {**JSON, "Content-Length": str(LIMIT + 1), "X-Request-Id": "fixed-id"}
            large = await call(app, "POST", "/v2/models/e/infer", b"x" * (LIMIT + 1), headers)
            headers = {**JSON, "Content-Length": str(LIMIT + 1)}
            anonymous = await call(app, "POST", "/v2/models/e/infer", b"x" * (LIMIT + 1), headers)
            return large, anonymous

    large, anonymous = asyncio.run(main())
    assert large.status == 413 and large.json()["id"] == "fixed-id"
    assert large.headers["x-request-id"] == "fixed-id"
    assert anonymous.json()["id"] and anonymous.json()["id"] == anonymous.headers["x-request-id"]


def test_body_at_the_limit_in_chunks_is_served(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            body = orjson.dumps({"inputs": ["a" * (LIMIT - 20)]})
            assert len(body) <= LIMIT
            return await call(app, "POST", "/v2/models/e/infer", body, JSON, chunk=100)

    answer = asyncio.run(main())
    assert answer.status == 200
    assert answer.receives > 10


def test_raising_model_is_500_json_without_traceback(config: ServeConfig) -> None:
    async def main() -> Answer:
        async with running(App(config)) as app:
            return await call(app, "POST", "/v2/models/bad/infer", b'{"inputs": [1]}', JSON)

    answer = asyncio.run(main())
    assert answer.status == 500
    assert set(answer.json()) == {"error", "id"}
    assert "ValueError: cannot handle [1]" in answer.json()["error"]
    assert b"Traceback" not in answer.body


@pytest.mark.parametrize(
    ("broken_part", "content_type"),
    [("encoded", "text/plain"), ("header_dict", "application/json")],  # general way, hot path
)
def test_an_exception_outside_the_handler_is_500_json(
    config: ServeConfig, monkeypatch: pytest.MonkeyPatch, broken_part: str, content_type: str
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("adapter bug")

    monkeypatch.setattr(app_module, broken_part, broken)

    async def main() -> Answer:
        async with running(App(config)) as app:
            headers = {"Content-Type": content_type}
            return await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', headers)

    answer = asyncio.run(main())
    assert answer.status == 500
    assert answer.json()["error"] == "internal error: RuntimeError: adapter bug"
    assert b"Traceback" not in answer.body


def test_request_before_startup_is_503() -> None:
    app = App(ServeConfig(spec_path="unused.yaml"))
    answer = asyncio.run(call(app, "GET", "/v2/health/ready"))
    assert answer.status == 503
    assert "lifespan startup" in answer.json()["error"]


def test_metrics_count_requests_errors_and_latency(config: ServeConfig, tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    config = ServeConfig(spec_path=config.spec_path, metrics_dir=str(shared))

    async def main() -> str:
        async with running(App(config)) as app:
            for _ in range(3):
                await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', JSON)
            await call(app, "POST", "/v2/models/bad/infer", b'{"inputs": [1]}', JSON)
            await call(app, "GET", "/v2/health/ready")
            answer = await call(app, "GET", "/metrics")
            assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert (shared / f"{os.getpid()}.json").is_file()
            return answer.body.decode()

    text = asyncio.run(main())
    assert 'nuserve_requests_total{model="e",op="infer"} 3' in text
    assert 'nuserve_request_errors_total{model="e",op="infer"} 0' in text
    assert 'nuserve_requests_total{model="bad",op="infer"} 1' in text
    assert 'nuserve_request_errors_total{model="bad",op="infer"} 1' in text
    assert 'nuserve_requests_total{model="",op="health"} 1' in text
    assert 'nuserve_request_duration_seconds_bucket{model="e",op="infer",le="+Inf"} 3' in text
    assert 'nuserve_request_duration_seconds_count{model="e",op="infer"} 3' in text
    assert "nuserve_requests_in_flight 0" in text
    assert f'nuserve_worker_info{{pid="{os.getpid()}"}} 1' in text
    assert "nuserve_worker_inits_total 1" in text
    assert not (shared / f"{os.getpid()}.json").exists()  # removed at shutdown


def test_ten_thousand_unknown_model_names_make_one_series(config: ServeConfig) -> None:
    """A client once made a series per made-up name (NUL bytes included), and past 256 the
    real models were lumped into ``model="",op="other"``."""

    async def main() -> str:
        async with running(App(config)) as app:
            for i in range(10_000):
                name = f"nope-{i}" if i % 2 else f'x\x00{i}"}}'
                answer = await call(app, "POST", f"/v2/models/{name}/infer", b"{}", JSON)
                assert answer.status == 404
            for _ in range(2):
                await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', JSON)
            await call(app, "POST", "/v2/models/e/nope", b"{}", JSON)
            return (await call(app, "GET", "/metrics")).body.decode()

    text = asyncio.run(main())
    series = [line for line in text.splitlines() if line.startswith("nuserve_requests_total{")]
    assert sorted(series) == [
        'nuserve_requests_total{model="e",op="infer"} 2',
        'nuserve_requests_total{model="e",op="unknown"} 1',
        'nuserve_requests_total{model="unknown",op="unknown"} 10000',
    ]
    assert "\x00" not in text


def test_past_max_in_flight_a_request_gets_503_with_retry_after_at_once(
    config: ServeConfig,
) -> None:
    """Two requests whose bodies have not come hold both places; the third is refused at
    once (not queued), liveness still answers, and once they end requests are served."""
    config = dataclasses.replace(config, max_in_flight=2)

    async def main() -> None:
        async with running(App(config)) as app:
            gate = asyncio.Event()
            answers: list[list[dict[str, Any]]] = [[], []]

            async def held(i: int) -> None:
                async def receive() -> dict[str, Any]:
                    await gate.wait()
                    return {"type": "http.request", "body": b'{"inputs": [1]}'}

                async def send(message: dict[str, Any]) -> None:
                    answers[i].append(message)

                scope = {"type": "http", "method": "POST", "path": "/v2/models/e/infer"}
                scope |= {"headers": [(b"content-type", b"application/json")]}
                scope |= {"query_string": b"", "raw_path": b"/v2/models/e/infer"}
                await app(scope, receive, send)

            tasks = [asyncio.create_task(held(i)) for i in range(2)]
            for _ in range(100):
                await asyncio.sleep(0)
            assert app.metrics.in_flight == 2
            refused = await asyncio.wait_for(
                call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', JSON), 1
            )
            assert refused.status == 503
            assert refused.headers["retry-after"] == "1"
            assert "answering 2 requests (max_in_flight)" in refused.json()["error"]
            assert refused.receives == 0  # refused before its body was read
            assert (await call(app, "GET", "/v2/health/live")).status == 200
            gate.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 5)
            assert [a[0]["status"] for a in answers] == [200, 200]
            served = await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', JSON)
            assert served.status == 200
            text = (await call(app, "GET", "/metrics")).body.decode()
            assert 'nuserve_request_errors_total{model="e",op="infer"} 1' in text

    asyncio.run(main())


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("application/cloudevents+json", 200),
        ("application/xml", 415),
        ("image/png", 415),
        ("text/plain", 415),
        ("", 415),
    ],
)
def test_strict_content_type_takes_json_bodies_only(
    config: ServeConfig, content_type: str, status: int
) -> None:
    body = b'{"inputs": [1]}'

    async def main(strict: bool) -> tuple[Answer, Answer]:
        headers = {"Content-Type": content_type} if content_type else {}
        headers["Content-Length"] = str(len(body))
        async with running(App(dataclasses.replace(config, strict_content_type=strict))) as app:
            answer = await call(app, "POST", "/v2/models/e/infer", body, headers)
            bodiless = await call(app, "GET", "/v2/models/e")
            return answer, bodiless

    answer, bodiless = asyncio.run(main(strict=True))
    assert answer.status == status, answer.body
    assert bodiless.status == 200  # no body, nothing to type
    if status == 415:
        assert answer.json()["error"].startswith("Content-Type ")
        assert "is not JSON, and this server takes JSON only" in answer.json()["error"]
        assert answer.receives == 0
    default, _ = asyncio.run(main(strict=False))
    assert default.status == 200  # by default the content type is not checked


def test_metrics_and_the_document_take_get_and_head_only(config: ServeConfig) -> None:
    """``TRACE /metrics`` or ``POST /openapi.json`` fell through to the graph: a 404."""

    async def main() -> dict[tuple[str, str], Answer]:
        async with running(App(config)) as app:
            return {
                (method, path): await call(app, method, path, b"{}", JSON)
                for path in ("/metrics", "/openapi.json")
                for method in ("GET", "HEAD", "POST", "TRACE", "PUT", "DELETE", "OPTIONS")
            }

    answers = asyncio.run(main())
    for (method, path), answer in answers.items():
        if method in ("GET", "HEAD"):  # uvicorn drops a HEAD answer's body, not its length
            assert answer.status == 200, (method, path, answer.body)
            assert answer.body == answers["GET", path].body
            continue
        assert answer.status == 405, (method, path, answer.body)
        assert answer.headers["allow"] == "GET, HEAD"
        assert answer.json()["error"] == f"{path} accepts GET or HEAD, not {method}"
        assert set(answer.json()) == {"error", "id"}
        assert answer.receives == 0  # refused before reading the body
    assert answers["GET", "/metrics"].body.startswith(b"# HELP")


def test_startup_failure_is_reported(tmp_path: Path) -> None:
    path = write_function_yaml(tmp_path / "function.yaml", {"e": "tests.models.BrokenLoad"})
    shared = tmp_path / "metrics"
    shared.mkdir()
    app = App(ServeConfig(spec_path=str(path), metrics_dir=str(shared)))

    async def main() -> dict[str, Any]:
        to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        task = asyncio.create_task(app({"type": "lifespan"}, to_app.get, from_app.put))
        await to_app.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(from_app.get(), 30)
        await asyncio.wait_for(task, 10)
        return message

    message = asyncio.run(main())
    assert message["type"] == "lifespan.startup.failed"
    assert "weights.bin is missing" in message["message"]
    (reason,) = shared.glob("failed-*.txt")
    assert "weights.bin is missing" in reason.read_text()


# ----------------------------------------------------------------- hostile clients

TOKEN = "0123456789abcdef-token"


class LeakyPath(Echo):
    """Its predict fails with an OSError naming an absolute path of this machine."""

    def predict(self, request: dict[str, Any]) -> Any:
        raise FileNotFoundError(2, "No such file or directory", f"{Path.cwd()}/weights/m.pkl")


def test_without_the_token_every_path_is_401_and_no_body_is_read(config: ServeConfig) -> None:
    config = dataclasses.replace(config, auth_token=TOKEN)

    async def main() -> list[Answer]:
        async with running(App(config)) as app:
            answers = [
                await call(app, method, path, b'{"inputs": [1]}', {**JSON, **extra})
                for method, path in [("POST", "/v2/models/e/infer"), ("GET", "/metrics")]
                for extra in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN})
            ]
            right = {"Authorization": f"Bearer {TOKEN}"}
            answers.append(
                await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', {**JSON, **right})
            )
            return answers

    *refused, served = asyncio.run(main())
    for answer in refused:
        assert answer.status == 401
        assert answer.headers["www-authenticate"] == 'Bearer realm="nuserve"'
        assert answer.headers["connection"] == "close"
        assert answer.json()["error"] in (auth.MISSING, auth.WRONG)
        assert answer.receives == 0  # refused before reading the body
    assert [a.json()["error"] for a in refused[:3]] == [auth.MISSING, auth.WRONG, auth.MISSING]
    assert served.status == 200 and served.json()["outputs"] == [1]


def test_the_token_is_not_in_the_config_repr() -> None:
    assert TOKEN not in repr(ServeConfig(spec_path="f.yaml", auth_token=TOKEN))


def test_a_body_that_does_not_come_in_time_is_408(config: ServeConfig) -> None:
    config = dataclasses.replace(config, body_timeout=0.2)
    sent: list[dict[str, Any]] = []
    gate = asyncio.Event()

    async def main() -> float:
        async with running(App(config)) as app:
            receives = iter([{"type": "http.request", "body": b'{"inp', "more_body": True}])

            async def receive() -> dict[str, Any]:
                message = next(receives, None)
                if message is None:
                    await gate.wait()  # the rest never comes
                return message or {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            scope = {
                "type": "http",
                "method": "POST",
                "path": "/v2/models/e/infer",
                "query_string": b"",
                "headers": [(b"content-type", b"application/json")],
            }
            started = asyncio.get_running_loop().time()
            await asyncio.wait_for(app(scope, receive, send), 5)
            return asyncio.get_running_loop().time() - started

    took = asyncio.run(main())
    assert 0.2 <= took < 2
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    error = orjson.loads(sent[1]["body"])["error"]
    assert error == (
        "request body not received within 0.2 s (body_timeout); send the whole body "
        "promptly, and a Content-Length that matches it"
    )


def test_5xx_messages_name_the_file_but_not_where_it_lives(tmp_path: Path) -> None:
    path = write_function_yaml(
        tmp_path / "function.yaml", {"leaky": "tests.unit.serve.test_app.LeakyPath"}
    )

    async def main() -> Answer:
        async with running(App(ServeConfig(spec_path=str(path)))) as app:
            return await call(app, "POST", "/v2/models/leaky/infer", b'{"inputs": [1]}', JSON)

    answer = asyncio.run(main())
    assert answer.status == 500
    error = answer.json()["error"]
    assert "No such file or directory: '.../m.pkl'" in error
    assert str(Path.cwd()) not in error
    assert int(answer.headers["content-length"]) == len(answer.body)


@pytest.mark.parametrize(
    ("broken_part", "content_type"),
    [("encoded", "text/plain"), ("header_dict", "application/json")],  # general way, hot path
)
def test_an_internal_error_is_redacted_too(
    config: ServeConfig, monkeypatch: pytest.MonkeyPatch, broken_part: str, content_type: str
) -> None:
    def broken(*args: Any) -> Any:
        raise OSError(f"cannot open {Path.cwd()}/secret/config.toml")

    monkeypatch.setattr(app_module, broken_part, broken)

    async def main() -> Answer:
        async with running(App(config)) as app:
            headers = {"Content-Type": content_type}
            return await call(app, "POST", "/v2/models/e/infer", b'{"inputs": [1]}', headers)

    answer = asyncio.run(main())
    assert answer.json()["error"] == "internal error: OSError: cannot open .../config.toml"


def test_a_worker_says_it_is_still_loading_then_what_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A long load once left the terminal silent until the first request."""
    from tests.models import Gated

    monkeypatch.setattr(app_module, "LOAD_NOTICE_S", 0.05)
    path = write_function_yaml(tmp_path / "function.yaml", {"g": "tests.models.Gated"})
    config = ServeConfig(spec_path=str(path), address="http://127.0.0.1:9")
    Gated.release.clear()
    timer = threading.Timer(0.3, Gated.release.set)
    timer.start()

    async def main() -> None:
        async with running(App(config)):
            pass

    try:
        asyncio.run(main())
    finally:
        timer.cancel()
        Gated.release.set()
    err = capsys.readouterr().err
    pid = os.getpid()
    assert err.count(f"nuserve serve: worker {pid} loading (") >= 2, err
    assert re.search(
        rf"^nuserve serve: worker {pid} serving http://127\.0\.0\.1:9 \(0\.\d s\): g \(ready\)$",
        err,
        re.M,
    ), err


def test_a_worker_started_without_an_address_prints_nothing(
    config: ServeConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async def main() -> None:
        async with running(App(config)):
            pass

    asyncio.run(main())
    assert "nuserve serve:" not in capsys.readouterr().err


def test_a_model_class_in_a_module_beside_the_function_yaml_imports(tmp_path: Path) -> None:
    """Nuclio puts the code directory first on PYTHONPATH, so ``class_name="mod.Cls"`` with
    ``mod.py`` in a deploy directory imports there; ``nuserve serve`` of that directory's
    function.yaml does the same (its directory first on ``sys.path``), whatever the cwd."""
    module = f"beside_{uuid.uuid4().hex[:8]}"
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / f"{module}.py").write_text(
        "import nuserve\n\n\nclass Doubler(nuserve.V2ModelServer):\n"
        "    def load(self):\n        pass\n\n"
        "    def predict(self, request):\n        return [2 * x for x in request['inputs']]\n"
    )
    path = write_function_yaml(deploy / "function.yaml", {"d": f"{module}.Doubler"})
    saved = list(sys.path)

    async def main() -> Answer:
        async with running(App(ServeConfig(spec_path=str(path)))) as app:
            return await call(app, "POST", "/v2/models/d/infer", b'{"inputs": [1, 2]}', JSON)

    try:
        answer = asyncio.run(main())
        assert sys.path[0] == str(deploy.resolve())
    finally:
        sys.path[:] = saved
        sys.modules.pop(module, None)
    assert (answer.status, answer.json()["outputs"]) == (200, [2, 4]), answer.body
