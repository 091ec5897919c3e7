"""LLModel on the real llama.cpp engine (the tiny GGUF), through the mock server's OpenAI
endpoints, the OIP generate extension and ``/infer``."""

from __future__ import annotations

import base64
import struct

import orjson
import pytest

from nuserve.server.mock import MockResponseError
from tests.llm_client import llm_function, llm_mock, named_events, sse_events
from tests.tiny_gguf import CONTEXT

pytest.importorskip("llama_cpp")  # CI installs the llm extra (tests/run.sh): this never skips there


@pytest.fixture(scope="module")
def mock(tiny_gguf):
    server = llm_mock(tiny_gguf, prompt_template="Tell me about {topic}.")
    yield server
    server.close()


CHAT = {"model": "tiny", "messages": [{"role": "user", "content": "hello there"}], "temperature": 0, "seed": 1, "max_tokens": 12}


def test_models_list_and_retrieve(mock) -> None:
    listing = mock.test("/v1/models", method="GET")
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["tiny"]
    card = mock.test("/v1/models/tiny", method="GET")
    assert card["id"] == "tiny" and card["object"] == "model"


def test_chat_completion_has_text_and_usage_that_adds_up(mock) -> None:
    answer = mock.test("/v1/chat/completions", CHAT)
    choice = answer["choices"][0]
    assert answer["object"] == "chat.completion"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] == "length"  # the tiny model never ends a text itself
    usage = answer["usage"]
    assert usage["completion_tokens"] == 12
    assert usage["prompt_tokens"] > 3
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_streamed_chat_joins_to_the_whole_answer_and_usage_comes_last(mock) -> None:
    whole = mock.test("/v1/chat/completions", CHAT)
    chunks = "".join(mock.test("/v1/chat/completions", {**CHAT, "stream": True, "stream_options": {"include_usage": True}}))
    events = sse_events(chunks)
    assert events[-1] == "[DONE]"
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == [] and usage_chunk["usage"] == whole["usage"]
    deltas = [e["choices"][0]["delta"] for e in events[:-2] if e["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    text = "".join(d.get("content", "") for d in deltas)
    assert text == whole["choices"][0]["message"]["content"]
    finishes = [e["choices"][0]["finish_reason"] for e in events[:-2] if e["choices"]]
    assert finishes[-1] == "length" and set(finishes[:-1]) == {None}
    assert all(e["usage"] is None for e in events[:-2])


def test_completions_and_stop_strings(mock) -> None:
    body = {"model": "tiny", "prompt": "the water", "temperature": 0, "max_tokens": 10}
    whole = mock.test("/v1/completions", body)
    text = whole["choices"][0]["text"]
    assert whole["object"] == "text_completion"
    words = text.split()
    assert len(words) >= 3
    stop = " " + words[2]
    cut = mock.test("/v1/completions", {**body, "stop": [stop]})
    assert cut["choices"][0]["finish_reason"] == "stop"
    assert cut["choices"][0]["text"] == text[: text.index(stop)]
    streamed = sse_events("".join(mock.test("/v1/completions", {**body, "stream": True})))
    assert "".join(e["choices"][0]["text"] for e in streamed[:-1]) == text


def test_n_choices_and_seeds(mock) -> None:
    answer = mock.test("/v1/chat/completions", {**CHAT, "n": 2, "temperature": 1.0, "seed": 5})
    assert [c["index"] for c in answer["choices"]] == [0, 1]
    again = mock.test("/v1/chat/completions", {**CHAT, "n": 2, "temperature": 1.0, "seed": 5})
    assert [c["message"] for c in again["choices"]] == [c["message"] for c in answer["choices"]]
    assert answer["usage"]["completion_tokens"] == 24


def test_embeddings_float_and_base64(mock) -> None:
    floats = mock.test("/v1/embeddings", {"model": "tiny", "input": ["one", "two words"]})
    assert [d["index"] for d in floats["data"]] == [0, 1]
    vector = floats["data"][0]["embedding"]
    assert len(vector) == 64 and any(v != 0 for v in vector)
    assert floats["usage"]["prompt_tokens"] > 0
    packed = mock.test("/v1/embeddings", {"model": "tiny", "input": "one", "encoding_format": "base64"})
    raw = base64.b64decode(packed["data"][0]["embedding"])
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == pytest.approx(vector, rel=1e-5)


def test_responses_create_and_stream(mock) -> None:
    body = {"model": "tiny", "input": "hello", "instructions": "be brief", "max_output_tokens": 8, "temperature": 0}
    whole = mock.test("/v1/responses", body)
    assert whole["object"] == "response" and whole["status"] == "incomplete"
    text = whole["output"][0]["content"][0]["text"]
    assert text.strip()
    assert whole["usage"]["output_tokens"] == 8
    events = named_events("".join(mock.test("/v1/responses", {**body, "stream": True})))
    kinds = [k for k, _ in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.incomplete"
    assert "".join(e["delta"] for k, e in events if k == "response.output_text.delta") == text
    assert [e["sequence_number"] for _, e in events] == list(range(len(events)))
    assert events[-1][1]["response"]["usage"] == whole["usage"]


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        ("/v1/chat/completions", {"model": "tiny"}, 400, "messages"),
        ("/v1/chat/completions", {"model": "tiny", "messages": []}, 400, "messages"),
        ("/v1/chat/completions", {"model": "nope", "messages": [{"role": "user", "content": "x"}]}, 404, "model"),
        ("/v1/completions", {"model": "tiny", "prompt": "the " * (CONTEXT + 10)}, 400, "prompt"),
        ("/v1/chat/completions", {"model": "tiny", "messages": [{"role": "user", "content": "x"}], "temperature": 9}, 400, "temperature"),
        ("/v1/embeddings", {"model": "tiny"}, 400, "input"),
        ("/v1/responses", {"model": "tiny"}, 400, "input"),
    ],
)
def test_bad_requests_are_openai_shaped_errors(mock, path, body, status, param) -> None:
    response = mock.test(path, body, silent=True, get_body=False)
    assert response.status_code == status
    error = response.body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert response.body["id"]
    if "the " in str(body.get("prompt")):
        assert str(CONTEXT) in error["message"] and error["code"] == "context_length_exceeded"


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/completions", {"model": "tiny", "prompt": "the " * (CONTEXT + 10)}, "prompt"),
        (
            "/v1/chat/completions",
            {**CHAT, "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "foo"}}}},
            "response_format",
        ),
    ],
)
def test_a_stream_checks_its_request_before_its_head(mock, path, body, param) -> None:
    """A stream's head goes out before its first token (the engine's STARTED), but only once
    the prompt fits and the schema can constrain decoding: else the status says so."""
    response = mock.test(path, {**body, "stream": True}, silent=True, get_body=False)
    assert response.status_code == 400
    assert response.body["error"]["param"] == param


def test_wrong_method_is_a_405(mock) -> None:
    response = mock.test("/v1/chat/completions", method="GET", silent=True, get_body=False)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_generate_extension_and_its_stream(mock) -> None:
    body = {"text_input": "water", "parameters": {"max_tokens": 6, "temperature": 0, "prompt_variables": {"topic": "x"}}}
    whole = mock.test("/v2/models/tiny/generate", body)
    assert whole["model_name"] == "tiny" and whole["text_output"].strip()
    assert whole["usage"]["completion_tokens"] == 6
    events = sse_events("".join(mock.test("/v2/models/tiny/generate_stream", body)))
    assert "".join(e["text_output"] for e in events) == whole["text_output"]
    assert events[-1]["finish_reason"] == "length"
    with pytest.raises(MockResponseError) as caught:
        mock.test("/v2/models/tiny/generate", {"parameters": {}})
    assert caught.value.status_code == 400 and "text_input" in str(caught.value)


def test_infer_fills_the_prompt_template_and_reports_usage(mock) -> None:
    body = mock.test("/v2/models/tiny/infer", {"inputs": [{"topic": "rain"}], "parameters": {"max_tokens": 4, "temperature": 0}})
    (output,) = body["outputs"]
    assert output["usage"]["completion_tokens"] == 4 and output["text"].strip()
    with pytest.raises(MockResponseError) as caught:
        mock.test("/v2/models/tiny/infer", {"inputs": [{"place": "x"}]})
    assert caught.value.status_code == 400 and "topic" in str(caught.value)


def test_response_format_json_object_is_json(mock) -> None:
    answer = mock.test("/v1/chat/completions", {**CHAT, "max_tokens": 60, "response_format": {"type": "json_object"}})
    text = answer["choices"][0]["message"]["content"]
    assert text.lstrip().startswith("{")
    if answer["choices"][0]["finish_reason"] == "stop":
        assert isinstance(orjson.loads(text), dict)


def test_openai_prefix_is_configurable(tiny_gguf) -> None:
    fn = llm_function(tiny_gguf)
    fn.set_topology("router", openai_prefix="/openai/v1")
    fn.add_model("tiny", class_name="LLModel", model_path=str(tiny_gguf))
    server = fn.to_mock_server()
    try:
        assert server.test("/openai/v1/models", method="GET")["data"][0]["id"] == "tiny"
        assert server.test("/v1/models", method="GET", silent=True, get_body=False).status_code == 404
    finally:
        server.close()
