"""The Nuclio adapter driven with real nuclio_sdk objects, compared with the mock server."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import nuclio_sdk
import orjson
import pytest
from nuclio_sdk.test import Platform

import handler as root_handler
import nuserve
from nuserve.nuclio.adapter import handler, handler_async, init_context, to_event
from nuserve.nuclio.spec_env import decode_spec, encode_spec, read_spec


def make_function():
    fn = nuserve.new_function("nuc")
    fn.add_model("e", class_name="tests.models.Echo")
    fn.add_model("s:v1", class_name="tests.models.Summer")
    fn.add_model("bad", class_name="tests.models.Raising")
    fn.add_model("b", class_name="tests.models.Echo", max_batch_size=16, max_batch_time_ms=1)
    return fn


@pytest.fixture
def platform(monkeypatch):
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(make_function().spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    yield Platform()
    logging.getLogger("nuserve").handlers.clear()
    logging.getLogger("nuserve").propagate = True


def http_event(path, body, content_type="application/json", method="POST", headers=None):
    return nuclio_sdk.Event(
        body=body, content_type=content_type, path=path, method=method, headers=headers or {},
        trigger=nuclio_sdk.TriggerInfo("http", "http"), _id="nuclio-id-1",
    )


def kafka_event(body, offset=7):
    return nuclio_sdk.Event(
        body=body, content_type="", path="in-topic", topic="in-topic", shard_id=2, offset=offset,
        headers={"X-Request-Id": b"kafka-req"}, trigger=nuclio_sdk.TriggerInfo("kafka-cluster", "k"),
    )


def v3io_event(body):
    return nuclio_sdk.Event(
        body=body, content_type="", path="/container/stream", topic="/container/stream", shard_id=0,
        offset=123456, trigger=nuclio_sdk.TriggerInfo("v3ioStream", "v"), _id="v3io-id",
    )


def decoded(response):
    assert isinstance(response, nuclio_sdk.Response)
    assert response.content_type == "application/json"
    assert all(isinstance(v, str) for v in response.headers.values())
    return response.status_code, orjson.loads(response.body)


def test_http_event_through_platform_call_handler(platform):
    # the SDK hands a dict body when the content type is exactly application/json
    resp = platform.call_handler(root_handler.handler, http_event("/v2/models/e/infer", {"inputs": [1]}))
    status, body = decoded(resp)
    assert status == 200 and body["outputs"] == [1] and body["id"] == "nuclio-id-1"
    assert resp.headers["X-Request-Id"] == "nuclio-id-1"
    # and bytes when it is anything else (charset, or no content type)
    event = http_event("/v2/models/s/infer", b'{"inputs": [[1, 2]]}', "application/json; charset=utf-8",
                       headers={"X-Request-Id": "client-id"})
    status, body = decoded(platform.call_handler(root_handler.handler, event))
    assert (status, body["outputs"], body["id"], body["model_version"]) == (200, [3], "client-id", "v1")


def test_kafka_and_v3io_events_route_by_body(platform):
    resp = platform.call_handler(root_handler.handler, kafka_event(b'{"model": "s", "inputs": [[2, 3]]}'))
    status, body = decoded(resp)
    assert (status, body["outputs"], body["id"]) == (200, [5], "kafka-req")
    resp = platform.call_handler(root_handler.handler, v3io_event(b'{"model": "e", "inputs": ["x"]}'))
    status, body = decoded(resp)
    assert (status, body["outputs"], body["id"]) == (200, ["x"], "v3io-id")
    converted = to_event(kafka_event(b"{}"))
    assert (converted.trigger, converted.topic, converted.shard_id, converted.offset) == (
        "kafka-cluster", "in-topic", 2, 7)
    assert converted.headers == {"X-Request-Id": "kafka-req"}


def test_poison_stream_message_gets_a_clean_400(platform):
    status, body = decoded(platform.call_handler(root_handler.handler, kafka_event(b"\xff\xfe not json")))
    assert status == 400
    assert body["error"].startswith("request body is not valid JSON")
    status, _ = decoded(platform.call_handler(root_handler.handler, kafka_event(b'{"model": "e", "inputs": [1]}')))
    assert status == 200


def test_raising_model_is_a_json_500_without_traceback(platform):
    resp = platform.call_handler(root_handler.handler, http_event("/v2/models/bad/infer", {"inputs": [1]}))
    status, body = decoded(resp)
    assert status == 500
    assert body == {"error": "model 'bad' raised in infer: ValueError: cannot handle [1]", "id": "nuclio-id-1"}
    assert "Traceback" not in resp.body.decode()


def test_batch_in_list_out_with_one_predict_for_the_batch(platform):
    events = [http_event("/v2/models/b/infer", {"inputs": [[i]]}) for i in range(4)]
    events.append(http_event("/v2/models/nope/infer", {"inputs": [[1]]}))
    events.append(kafka_event(b'{"model": "s", "inputs": [[1, 1]]}'))
    for i, event in enumerate(events):
        event.id = f"n{i}"
    responses = platform.call_handler(root_handler.handler, events)
    assert isinstance(responses, list) and len(responses) == 6
    results = [decoded(r) for r in responses]
    assert [s for s, _ in results] == [200, 200, 200, 200, 404, 200]
    assert [b["outputs"] for _, b in results[:4]] == [[[0]], [[1]], [[2]], [[3]]]
    assert results[5][1]["outputs"] == [2]
    # Nuclio pairs a batch's responses with its events by event_id
    assert [r.event_id for r in responses] == [f"n{i}" for i in range(6)]


def test_same_bodies_as_the_mock_server(platform):
    mock = make_function().to_mock_server()
    cases = [
        ("/v2/models/e/infer", {"id": "x1", "inputs": [[1, 2]]}),
        ("/v2/models/s/versions/v1/explain", {"id": "x2", "inputs": [[1, 5]]}),
        ("/v2/models/s/describe", {"id": "x3"}),
        ("/v2/models/nope/infer", {"id": "x4", "inputs": [1]}),
        ("/v2/models/e/infer", {"id": "x5", "inputs": [{"name": "t", "shape": [2], "datatype": "INT32", "data": [1, 2]}]}),
    ]
    for path, body in cases:
        expected = mock.test(path, body, silent=True, event_id="same-id", get_body=False).body
        resp = platform.call_handler(root_handler.handler, http_event(path, body, headers={"X-Request-Id": "same-id"}))
        _, got = decoded(resp)
        expected = orjson.loads(orjson.dumps(expected))
        for answer in (expected, got):
            answer.pop("timestamp", None)
        assert got == expected, path


def test_init_context_once_and_get_requests(platform):
    context = nuclio_sdk.Context(platform._logger, platform)
    init_context(context)
    server = context.user_data.server
    assert sorted(server.root.routes) == ["b", "bad", "e", "s:v1"]
    resp = root_handler.handler(context, http_event("/v2/models", None, "", "GET"))
    assert decoded(resp) == (200, {"models": ["b", "bad", "e", "s"], "versions": {"b": [], "bad": [], "e": [], "s": ["v1"]}})


def test_handler_without_init_context_answers_503_json():
    context = nuclio_sdk.Context(None, None)
    status, body = decoded(root_handler.handler(context, http_event("/", {"inputs": [1]})))
    assert status == 503 and "init_context" in body["error"]


def test_spec_env_encoding_round_trips_and_compresses_large_specs(monkeypatch):
    small = make_function().spec.serving_spec().to_dict()
    assert decode_spec(encode_spec(small)) == small
    big = dict(small, parameters={f"p{i}": "x" * 50 for i in range(2000)})
    text = encode_spec(big)
    assert text.startswith("gz:") and len(text) < 20_000
    assert decode_spec(text) == big
    with pytest.raises(nuserve.ConfigError, match="NUSERVE_SPEC is not a valid serving spec"):
        decode_spec("{nope")
    with pytest.raises(nuserve.ConfigError, match="no serving spec: set NUSERVE_SPEC"):
        read_spec({})


@pytest.mark.parametrize("use_async", [False, True])
def test_both_entry_points_refuse_alike_before_the_server(use_async):
    def call(event):
        return asyncio.run(handler_async(context, event)) if use_async else handler(context, event)

    context = nuclio_sdk.Context(None, None)
    status, body = decoded(call(http_event("/", {"inputs": [1]}, headers={"X-Request-Id": "r1"})))
    assert status == 503 and body["id"] == "r1"
    assert body["error"] == "the server is not initialised (init_context failed)"
    status, body = decoded(call(object()))
    assert status == 400 and body["error"].startswith("cannot read the event: AttributeError: ")


class LeakyPath(nuserve.V2ModelServer):
    """Its predict fails with an OSError naming an absolute path of this machine."""

    def load(self):
        pass

    def predict(self, request):
        raise FileNotFoundError(2, "No such file or directory", f"{Path.cwd()}/weights/m.pkl")


def test_5xx_answers_name_the_file_but_not_where_it_lives(monkeypatch):
    fn = nuserve.new_function("leaky")
    fn.add_model("leaky", class_name="tests.unit.nuclio.test_adapter.LeakyPath")
    monkeypatch.setenv("NUSERVE_SPEC", encode_spec(fn.spec.serving_spec().to_dict()))
    monkeypatch.delenv("NUSERVE_SPEC_PATH", raising=False)
    platform = Platform()
    context = nuclio_sdk.Context(platform._logger, platform)
    try:
        init_context(context)
        event = http_event("/v2/models/leaky/infer", {"inputs": [1]})
        answers = [handler(context, event), asyncio.run(handler_async(context, event))]
    finally:
        logging.getLogger("nuserve").handlers.clear()
        logging.getLogger("nuserve").propagate = True
    for answer in answers:
        status, body = decoded(answer)
        assert status == 500
        assert "No such file or directory: '.../m.pkl'" in body["error"]
        assert str(Path.cwd()) not in body["error"]
