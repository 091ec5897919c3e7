"""Helpers of the generative-model tests: a mock server serving the tiny GGUF, and reading
OpenAI's Server-Sent Events back into chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

import nuserve
from nuserve.server.mock import MockServer


def llm_function(gguf: Path, name: str = "tiny", **class_args: Any) -> nuserve.ServingFunction:
    fn = nuserve.new_function("llm")
    fn.add_model(name, class_name="LLModel", model_path=str(gguf), **class_args)
    return fn


def llm_mock(gguf: Path, **class_args: Any) -> MockServer:
    return llm_function(gguf, **class_args).to_mock_server()


def sse_events(text: str) -> list[Any]:
    """The ``data:`` payloads of an event stream: JSON objects, and ``"[DONE]"``."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                payload = line[6:]
                events.append(payload if payload == "[DONE]" else orjson.loads(payload))
    return events


def named_events(text: str) -> list[tuple[str, Any]]:
    """``(event name, payload)`` of the responses API's stream."""
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], orjson.loads(lines["data"])))
    return out
