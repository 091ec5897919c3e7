"""Streamed answers through the Nuclio handler, serialised by nuclio-sdk's own code
(>= 0.6 generator responses): first a whole response (status, headers, the first chunk),
then each further chunk, base64-encoded, as the processor reads them."""

from __future__ import annotations

import asyncio
import base64
import logging

import nuclio_sdk
import nuclio_sdk.json_encoder
import orjson
import pytest
from nuclio_sdk.test import Platform

import nuserve
from nuserve.nuclio.adapter import handler, handler_async, init_context
from nuserve.nuclio.spec_env import encode_spec
from tests.streaming_models import CLOSED


@pytest.fixture
def context(monkeypatch):
    fn = nuserve.new_function("nuc-stream")
    fn.add_model("t", class_name="tests.streaming_models.Tokens")
    fn.add_model("r", class_name="tests.streaming_models.AsyncRows")
    fn.set_streaming(True)
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    platform = Platform()
    context = nuclio_sdk.Context(platform._logger, platform)
    init_context(context)
    yield context
    context.user_data.server.close()
    logging.getLogger("nuserve").handlers.clear()
    logging.getLogger("nuserve").propagate = True


def http_event(path, body):
    return nuclio_sdk.Event(
        body=body, content_type="application/json", path=path, method="POST", headers={},
        trigger=nuclio_sdk.TriggerInfo("http", "http"), _id="nuclio-stream-1",
    )  # fmt: skip


async def serialised(reply) -> list:
    encoder = nuclio_sdk.json_encoder.Encoder()
    return [item async for item in nuclio_sdk.Response.from_entrypoint_output_async(encoder.encode, reply)]


def test_async_handler_streams_as_nuclio_sdk_serialises_generator_bodies(context) -> None:
    async def run():
        reply = await handler_async(context, http_event("/v2/models/t/infer", {"inputs": ["a b c"]}))
        return await serialised(reply)

    items = asyncio.run(run())
    first, rest = items[0], items[1:]
    assert isinstance(first, dict) and first["status_code"] == 200
    assert first["content_type"].startswith("text/plain")
    assert first["headers"]["X-Request-Id"] == "nuclio-stream-1"
    assert base64.b64decode(first["body"]) == b"a "
    assert [base64.b64decode(chunk) for chunk in rest] == [b"b ", b"c "]


def test_async_generator_rows_stream_as_json_lines(context) -> None:
    async def run():
        reply = await handler_async(context, http_event("/v2/models/r/infer", {"inputs": [1, 2], "as_dicts": True}))
        return await serialised(reply)

    items = asyncio.run(run())
    assert items[0]["content_type"] == "application/x-ndjson"
    lines = [base64.b64decode(items[0]["body"]), *(base64.b64decode(c) for c in items[1:])]
    assert [orjson.loads(line) for line in lines] == [{"row": 1}, {"row": 2}]


def test_sync_handler_gives_a_sync_generator_body(context) -> None:
    CLOSED.clear()
    reply = handler(context, http_event("/v2/models/t/infer", {"inputs": ["x y z"]}))
    assert reply.status_code == 200
    chunks = list(reply.body)
    assert chunks == [b"x ", b"y ", b"z "]
    assert CLOSED == ["sync"]


def test_errors_before_the_first_chunk_are_whole_json_answers(context) -> None:
    async def run():
        reply = await handler_async(context, http_event("/v2/models/t/infer", {"no": "inputs"}))
        return await serialised(reply)

    (only,) = asyncio.run(run())
    assert only["status_code"] == 400
    assert "inputs" in orjson.loads(base64.b64decode(only["body"]))["error"]


def test_with_an_sdk_before_0_6_a_stream_is_one_joined_body(context, monkeypatch) -> None:
    """Nuclio 1.14 installs nuclio-sdk 0.5.13, which cannot send a generator body."""
    from nuserve.nuclio import adapter

    monkeypatch.setattr(adapter, "SDK_STREAMS", False)
    reply = handler(context, http_event("/v2/models/t/infer", {"inputs": ["x y"]}))
    assert (reply.status_code, reply.body) == (200, b"x y ")
    assert reply.content_type.startswith("text/plain")
