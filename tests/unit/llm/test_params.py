"""Generation parameters: model defaults, then the request; a bad value is a 400 naming it."""

from __future__ import annotations

import pytest

from nuserve.llm.errors import OpenAIError, error_body
from nuserve.llm.params import GenerationParams, schema_of
from nuserve.llm.templates import PromptTemplate


def test_request_values_override_defaults_and_openai_names_are_read() -> None:
    defaults = GenerationParams().merged({"temperature": 0.5, "max_tokens": 10, "stop": "x"})
    params = defaults.merged({"max_completion_tokens": 3, "seed": 4, "n": 2, "top_p": 0.9})
    assert (params.max_tokens, params.temperature, params.seed, params.n, params.top_p) == (3, 0.5, 4, 2, 0.9)
    assert params.stop == ["x"]
    assert defaults.max_tokens == 10  # merged copies


@pytest.mark.parametrize(
    ("values", "param"),
    [
        ({"temperature": 3}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"top_p": 1.5}, "top_p"),
        ({"n": 0}, "n"),
        ({"stop": [1]}, "stop"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format"),
    ],
)
def test_bad_values_are_400s_naming_the_field(values, param) -> None:
    with pytest.raises(OpenAIError) as caught:
        GenerationParams().merged(values)
    assert caught.value.status == 400
    assert caught.value.param == param
    body = error_body(caught.value, "id-1")
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["type"] == "invalid_request_error"
    assert body["id"] == "id-1"


def test_response_formats() -> None:
    assert schema_of({"type": "text"}, "f") is None
    assert schema_of({"type": "json_object"}, "f") == {}
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert schema_of({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}, "f") == schema
    assert schema_of({"type": "json_schema", "name": "x", "schema": schema}, "f") == schema  # responses


def test_prompt_templates_fill_placeholders_only() -> None:
    text = PromptTemplate("Q: {question} {{literal}} {obj.__class__}").render({"question": "why"})
    assert text.text == "Q: why {literal} {obj.__class__}"
    chat = PromptTemplate([{"role": "system", "content": "be {tone}"}, {"role": "user", "content": "{q}"}])
    prompt = chat.render({"tone": "brief", "q": "hi"})
    assert prompt.messages == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    with pytest.raises(OpenAIError) as caught:
        chat.render({"tone": "brief"})
    assert caught.value.param == "inputs.q"
    assert "'q'" in caught.value.message
