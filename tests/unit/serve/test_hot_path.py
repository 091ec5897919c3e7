"""The hot path (``nuserve.serve.hot_path``) answers exactly what the general way answers.

Each request goes to two apps over the same function: one as served (its hot routes found at
startup), one with no hot routes (every request the general way: Nuclio's header dict, the
graph server, the router, the adapter's encoder). Status, headers and body must agree (the
timestamp and a generated id apart).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from nuserve.serve.app import App
from nuserve.serve.config import ServeConfig
from nuserve.serve.hot_path import hot_routes
from tests.serve_models import write_function_yaml
from tests.unit.serve.test_app import Answer, call, running

JSON = {"Content-Type": "application/json"}
ROWS = b'{"inputs": [[1, 2], [3, 4]]}'
OIP = b'{"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}'
CASES: list[tuple[str, bytes, dict[str, str]]] = [
    ("/v2/models/e/infer", ROWS, JSON),
    ("/v2/models/e/infer", ROWS, {**JSON, "X-Request-Id": "client-7"}),
    ("/v2/models/e/infer", ROWS, {**JSON, "X-Request-Id": ""}),
    ("/v2/models/e/infer", b'{"id": "body-1", "inputs": [[1]]}', JSON),
    ("/v2/models/e/infer", b'{"id": 5, "inputs": [["\xc3\xa9", null, true]]}', JSON),
    ("/v2/models/e/predict", ROWS, JSON),
    ("/v2/models/e", ROWS, JSON),
    ("/v2/models/e/infer", OIP, JSON),
    ("/v2/models/e/infer", b'{"inputs": [{"name": "x", "shape": [3], "datatype": "FP32"}]}', JSON),
    ("/v2/models/m/infer", ROWS, JSON),  # a postprocess hook
    ("/v2/models/m/infer", b'{"inputs": [[1, "a"]]}', JSON),  # predict fails: 500
    ("/v2/models/bad/infer", ROWS, JSON),  # a ValueError in predict: 500
    ("/v2/models/leaky/infer", ROWS, JSON),  # an OSError naming a path: redacted
    ("/v2/models/e/infer", b'{"rows": []}', JSON),  # no inputs: 400
    ("/v2/models/e/infer", b'{"inputs": [1, 2', JSON),  # malformed
    ("/v2/models/e/infer", b'{"inputs": [NaN]}', JSON),  # Python's json takes it: 400
    ("/v2/models/e/infer", b"[1, 2]", JSON),  # not an object
    ("/v2/models/e/infer", b'"text"', JSON),
    ("/v2/models/e/infer", b"", JSON),
    ("/v2/models/e/infer", ROWS, {"Content-Type": "application/json; charset=utf-8"}),
    ("/v2/models/e/infer", ROWS, {"Content-Type": "text/plain"}),
    ("/v2/models/e/infer", ROWS, {}),
    ("/v2/models/e/infer", b"x" * 5000, JSON),  # over max_body_size: 413
    ("/v2/models/nope/infer", ROWS, JSON),
    ("/v1/models/e:predict", b'{"instances": [[1, 2]]}', JSON),  # KServe v1
    ("/v1/models/e:predict", b'{"inputs": [[1, 2]]}', JSON),
    ("/v1/models/e:predict", b'{"rows": 1}', JSON),
    ("/v2/models/a/infer", ROWS, JSON),  # async hooks
    ("/v2/models/a/infer", b'{"inputs": 3}', JSON),
    ("/v2/models/b/infer", ROWS, JSON),  # adaptive batching
    ("/v2/models/b/infer", b'{"inputs": [[1, 2], [3]]}', JSON),
]


def comparable(answer: Answer, generated_id: bool) -> tuple[int, dict[str, str], Any]:
    headers = dict(answer.headers)
    try:
        body: Any = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        body = answer.body
    if generated_id:  # each app makes its own
        headers.pop("x-request-id", None)
        headers.pop("content-length", None)
        if isinstance(body, dict) and body.get("id") == answer.headers.get("x-request-id"):
            body["id"] = "<generated>"
    if isinstance(body, dict):
        body.pop("timestamp", None)
    return answer.status, headers, body


@pytest.fixture
def config(tmp_path: Path) -> ServeConfig:
    path = write_function_yaml(
        tmp_path / "function.yaml",
        {
            "e": "tests.models.Echo",
            "m": "tests.models.Summer",
            "bad": "tests.models.Raising",
            "leaky": "tests.unit.serve.test_app.LeakyPath",
            "a": "tests.models.AsyncEcho",
            "b": "tests.serve_models.BatchedEcho",
        },
        max_body_size=4096,
        model_args={"b": {"max_batch_size": 4, "max_batch_time_ms": 1}},
    )
    return ServeConfig(spec_path=str(path))


def test_the_hot_path_answers_what_the_general_way_answers(config: ServeConfig) -> None:
    async def main() -> list[tuple[Answer, Answer]]:
        async with running(App(config)) as hot, running(App(config)) as general:
            assert {"/v2/models/e/infer", "/v2/models/a/infer", "/v2/models/b/infer"} <= set(
                hot.hot
            )
            general.hot = {}
            return [
                (await call(hot, "POST", p, b, h), await call(general, "POST", p, b, h))
                for p, b, h in CASES
            ]

    for (path, body, headers), (fast, slow) in zip(CASES, asyncio.run(main()), strict=True):
        generated = not headers.get("X-Request-Id")
        assert comparable(fast, generated) == comparable(slow, generated), (path, body, headers)
    answers = asyncio.run(main())
    statuses = [fast.status for fast, _ in answers]
    assert statuses.count(200) >= 9 and {400, 404, 413, 500} <= set(statuses)
    leaked = [
        fast for (path, _, _), (fast, _) in zip(CASES, answers, strict=True) if "leaky" in path
    ]
    assert str(Path.cwd()) not in leaked[0].json()["error"]


def test_what_takes_the_hot_path(tmp_path: Path) -> None:
    """The infer paths of a plain router's models, sync or async; not explain; none when the
    function tracks its requests (the tracker wraps each call)."""

    def routes(**options: Any) -> dict[str, tuple[str, str | None, bool]]:
        path = write_function_yaml(
            tmp_path / "function.yaml",
            {"e": "tests.models.Echo", "a": "tests.models.AsyncEcho"},
            **options,
        )

        async def main() -> dict[str, Any]:
            async with running(App(ServeConfig(spec_path=str(path)))) as app:
                return hot_routes(app.context.user_data.server)

        found = asyncio.run(main())
        return {
            p: (r.operation, getattr(r.protocol, "name", None), r.is_async)
            for p, r in found.items()
        }

    assert routes() == {
        "/v2/models/e": ("infer", None, False),
        "/v2/models/e/infer": ("infer", None, False),
        "/v2/models/e/predict": ("predict", None, False),
        "/v1/models/e:predict": ("infer", "kserve-v1", False),
        "/v2/models/a": ("infer", None, True),
        "/v2/models/a/infer": ("infer", None, True),
        "/v2/models/a/predict": ("predict", None, True),
        "/v1/models/a:predict": ("infer", "kserve-v1", True),
    }
    assert routes(tracking="file://" + str(tmp_path / "tracked.jsonl")) == {}


def test_a_json_post_to_a_plain_model_skips_the_graph_server(
    config: ServeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers above agree whichever way is taken: this is what says which one was."""

    async def main() -> list[int]:
        async with running(App(config)) as app:
            server = app.context.user_data.server
            runs: list[str] = []
            general = server.run_async

            async def counted(event: Any) -> Any:
                runs.append(event.path)
                return await general(event)

            monkeypatch.setattr(server, "run_async", counted)
            statuses = []
            for path, body, headers in [
                ("/v2/models/e/infer", ROWS, JSON),  # hot
                ("/v2/models/b/infer", ROWS, JSON),  # hot, batched
                ("/v2/models/e/infer", ROWS, {"Content-Type": "text/plain"}),  # general
                ("/v2/models/e/infer", b"[1]", JSON),  # general: not an object
            ]:
                statuses.append((await call(app, "POST", path, body, headers)).status)
            assert runs == ["/v2/models/e/infer", "/v2/models/e/infer"]
            return statuses

    assert asyncio.run(main())[:2] == [200, 200]
