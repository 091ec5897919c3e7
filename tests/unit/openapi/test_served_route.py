"""``GET /openapi.json`` on ``nuserve serve``'s ASGI app, in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from openapi_spec_validator import validate

from nuserve.serve.app import App
from nuserve.serve.config import ServeConfig
from tests.serve_models import write_function_yaml
from tests.unit.serve.test_app import Answer, call, running


def config(tmp_path: Path, token: str | None = None) -> ServeConfig:
    path = write_function_yaml(tmp_path / "function.yaml", {"e": "tests.models.Echo"})
    return ServeConfig(spec_path=str(path), auth_token=token)


def test_the_document_is_served_built_once(tmp_path: Path) -> None:
    async def main() -> tuple[Answer, Answer, Answer, App]:
        async with running(App(config(tmp_path))) as app:
            first = await call(app, "GET", "/openapi.json")
            again = await call(app, "GET", "/openapi.json")
            posted = await call(app, "POST", "/openapi.json", b"{}")
            return first, again, posted, app

    first, again, posted, app = asyncio.run(main())
    assert first.status == 200 and first.headers["content-type"] == "application/json"
    document = first.json()
    validate(document)
    assert document["info"]["title"] == "t"
    assert {"/v2/models/e/infer", "/metrics", "/openapi.json"} <= set(document["paths"])
    assert "security" not in document
    assert again.body == first.body and app.openapi == first.body  # kept: every model loaded
    assert posted.status == 405 and set(posted.json()) == {"error", "id"}  # GET and HEAD only
    assert posted.headers["allow"] == "GET, HEAD"


def test_with_a_token_the_document_wants_it_too(tmp_path: Path) -> None:
    async def main() -> tuple[Answer, Answer]:
        async with running(App(config(tmp_path, token="s3cret-token-for-tests"))) as app:
            refused = await call(app, "GET", "/openapi.json")
            headers = {"Authorization": "Bearer s3cret-token-for-tests"}
            return refused, await call(app, "GET", "/openapi.json", headers=headers)

    refused, answered = asyncio.run(main())
    assert refused.status == 401
    document = orjson.loads(answered.body)
    assert document["security"] == [{"bearer": []}]
    assert "401" in document["paths"]["/openapi.json"]["get"]["responses"]


def test_before_startup_it_is_a_503(tmp_path: Path) -> None:
    answer = asyncio.run(call(App(config(tmp_path)), "GET", "/openapi.json"))
    assert answer.status == 503 and "has not started" in answer.json()["error"]
