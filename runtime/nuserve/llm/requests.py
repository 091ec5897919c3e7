"""Reading OpenAI request bodies: the model, the messages or prompt, the stream options.

Every refusal is a 400 in OpenAI's shape naming the field (``param``), so a client's
``BadRequestError`` says what to fix.
"""

from __future__ import annotations

from typing import Any

import orjson

from nuserve.llm.engine import Prompt
from nuserve.llm.errors import OpenAIError, bad_field

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def json_body(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes | bytearray | memoryview | str):
        try:
            body = orjson.loads(body) if body else None
        except orjson.JSONDecodeError as exc:
            raise OpenAIError(f"the body is not valid JSON: {exc}", 400) from exc
    if not isinstance(body, dict):
        raise OpenAIError(f"the body must be a JSON object (got {type(body).__name__})", 400)
    return body


def required(body: dict[str, Any], name: str) -> Any:
    if body.get(name) is None:
        raise OpenAIError(
            f"'{name}' is a required property", 400, name, "missing_required_parameter"
        )
    return body[name]


def text_of(content: Any, param: str) -> str:
    """A message's content: text, or a list of parts whose text parts are joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for i, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") not in (
                "text",
                "input_text",
                "output_text",
            ):
                raise bad_field(f"{param}[{i}]", f"'{param}[{i}]' must be a text part (type text)")
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    if content is None:
        return ""
    raise bad_field(param, f"'{param}' must be a string or a list of text parts")


def messages_of(body: dict[str, Any], name: str = "messages") -> list[dict[str, str]]:
    messages = required(body, name)
    if not isinstance(messages, list) or not messages:
        raise bad_field(name, f"'{name}' must be a non-empty list of messages")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise bad_field(
                f"{name}[{i}].role",
                f"'{name}[{i}]' must be an object with a role ({', '.join(sorted(ROLES))})",
            )
        out.append(
            {
                "role": message["role"],
                "content": text_of(message.get("content"), f"{name}[{i}].content"),
            }
        )
    return out


def prompt_of(body: dict[str, Any]) -> Prompt:
    """A completions prompt: one string (a list of one string is taken too)."""
    prompt = required(body, "prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise bad_field("prompt", "'prompt' must be a string (batches of prompts are not served)")
    return Prompt(text=prompt)


def include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise bad_field("stream_options", "'stream_options' must be an object")
    return bool(options.get("include_usage"))


def flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_field(name, f"'{name}' must be true or false (got {value!r})")
    return value
