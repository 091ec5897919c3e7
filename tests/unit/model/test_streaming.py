"""A generator ``predict`` (sync or async): joined for callers that do not stream, streamed
chunk by chunk with ``set_streaming(True)`` (the mock server's ``test`` gives an iterator)."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.event import Stream
from nuserve.model.streaming import collect_sync, join
from nuserve.server.mock import MockResponseError
from tests import streaming_models
from tests.streaming_models import CLOSED


def server(streaming: bool, **models: str):
    fn = nuserve.new_function("streams")
    for name, cls in models.items():
        fn.add_model(name, class_name=f"tests.streaming_models.{cls}")
    if streaming:
        fn.set_streaming(True)
    return fn.to_mock_server()


def test_join_concatenates_text_bytes_and_lists_and_lists_the_rest() -> None:
    assert join(["a", "b"]) == "ab"
    assert join([b"a", b"b"]) == b"ab"
    assert join([[1], [2, 3]]) == [1, 2, 3]
    assert join([{"a": 1}, "x"]) == [{"a": 1}, "x"]
    assert join([]) == []
    with pytest.raises(TypeError):
        collect_sync(streaming_models.AsyncRows().predict({"inputs": [1]}))


def test_without_streaming_a_sync_generator_is_one_answer() -> None:
    mock = server(False, t="Tokens")
    body = mock.test("/v2/models/t/infer", {"inputs": ["one two three"]})
    assert body["outputs"] == "one two three "


def test_without_streaming_an_async_generator_is_one_answer() -> None:
    mock = server(False, r="AsyncRows")
    body = mock.test("/v2/models/r/infer", {"inputs": [1, 2, 3]})
    assert body["outputs"] == [1, 2, 3]


def test_streaming_text_chunks_come_one_by_one_as_text() -> None:
    mock = server(True, t="Tokens")
    chunks = mock.test("/v2/models/t/infer", {"inputs": ["one two three"]})
    assert not isinstance(chunks, dict | str)
    assert list(chunks) == ["one ", "two ", "three "]
    response = mock.test("/v2/models/t/infer", {"inputs": ["a b"]}, get_body=False)
    assert type(response.body) is Stream
    assert response.content_type.startswith("text/plain")


def test_streaming_objects_are_json_lines() -> None:
    mock = server(True, r="AsyncRows")
    response = mock.test("/v2/models/r/infer", {"inputs": [1, 2], "as_dicts": True}, get_body=False)
    assert response.content_type == "application/x-ndjson"
    chunks = mock.test("/v2/models/r/infer", {"inputs": [1, 2], "as_dicts": True})
    assert list(chunks) == [{"row": 1}, {"row": 2}]


@pytest.mark.parametrize(("cls", "note"), [("Tokens", "sync"), ("AsyncRows", "async")])
def test_leaving_a_stream_early_closes_the_generator(cls: str, note: str) -> None:
    mock = server(True, m=cls)
    CLOSED.clear()
    chunks = mock.test("/v2/models/m/infer", {"inputs": ["a b c d e f"] if cls == "Tokens" else [1, 2, 3, 4]})
    first = next(chunks)
    assert first
    assert CLOSED == []
    chunks.close()
    assert [note] == CLOSED


@pytest.mark.parametrize("streaming", [False, True])
def test_a_generator_failing_before_its_first_chunk_is_a_500_naming_it(streaming: bool) -> None:
    mock = server(streaming, f="FailsFirst")
    with pytest.raises(MockResponseError) as caught:
        mock.test("/v2/models/f/infer", {"inputs": [1]})
    assert caught.value.status_code == 500
    assert "no chunk at all" in str(caught.value)
    assert mock.test("/v2/models/f/infer", {"inputs": []}, silent=True) is not None


def test_set_streaming_goes_into_the_serving_spec_and_function_yaml() -> None:
    fn = nuserve.new_function("streams")
    fn.add_model("t", class_name="tests.streaming_models.Tokens")
    fn.set_streaming(True)
    spec = fn.spec.serving_spec().to_dict()
    assert spec["streaming"] is True
    assert nuserve.ServingFunction  # the builder type stays public
    from nuserve.nuclio.function_config import function_config

    http = function_config(fn)["spec"]["triggers"]["http"]
    assert http["attributes"]["streamingFlushPeriod"] == "50ms"
    fn.set_streaming(False)
    assert "streamingFlushPeriod" not in function_config(fn)["spec"]["triggers"]["http"]["attributes"]


def test_a_function_serving_an_llmodel_streams_without_set_streaming(tmp_path) -> None:
    from nuserve.nuclio.function_config import function_config, read_function_yaml

    fn = nuserve.new_function("llm-yaml")
    fn.add_model("tiny", class_name="LLModel", model_path="tiny.gguf")
    http = function_config(fn)["spec"]["triggers"]["http"]
    assert http["attributes"]["streamingFlushPeriod"] == "50ms"
    fn.to_yaml(str(tmp_path / "function.yaml"))
    _, spec = read_function_yaml(tmp_path / "function.yaml")
    assert "streamingFlushPeriod" not in spec.http_attributes  # it follows the model, as written
