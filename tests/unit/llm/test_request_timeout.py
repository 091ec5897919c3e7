"""``request_timeout`` bounds a generation: a whole answer is a 504, a stream that has
started ends with an error event; the engine is free again after either."""

from __future__ import annotations

import pytest

from tests.llm_client import llm_function, sse_events

pytest.importorskip("llama_cpp")  # CI installs the llm extra (tests/run.sh): this never skips there

LONG = {"model": "tiny", "prompt": "the", "max_tokens": 240, "temperature": 0}


@pytest.fixture(scope="module")
def mock(slow_gguf):
    fn = llm_function(slow_gguf)
    fn.with_http(request_timeout=0.3)  # 240 tokens of this model take a second and more
    server = fn.to_mock_server()
    yield server
    server.close()


def test_a_whole_answer_over_the_timeout_is_a_504(mock) -> None:
    response = mock.test("/v1/completions", LONG, silent=True, get_body=False)
    assert response.status_code == 504
    assert "request_timeout" in str(response.body["error"])
    short = mock.test("/v1/completions", {**LONG, "max_tokens": 2})
    assert short["usage"]["completion_tokens"] == 2


def test_a_stream_over_the_timeout_ends_with_an_error_event(mock) -> None:
    events = sse_events("".join(mock.test("/v1/completions", {**LONG, "stream": True})))
    assert events[-1] == "[DONE]"
    error = events[-2]["error"]
    assert "request_timeout" in error["message"] and error["type"] == "timeout_error"
    texts = [e for e in events[:-2] if "choices" in e]
    assert texts and all(e["choices"][0]["finish_reason"] is None for e in texts)
    assert mock.test("/v1/completions", {**LONG, "max_tokens": 2})["usage"]["completion_tokens"] == 2
