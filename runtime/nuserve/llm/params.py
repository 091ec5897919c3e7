"""Generation parameters: the model's defaults (class args, model spec), then the request's.

One reading for every front end (OpenAI chat, completions and responses, the OIP generate
extension, ``/infer``): each value is checked once, and a bad one is a 400 naming its field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from nuserve.llm.errors import bad_field

DEFAULT_MAX_TOKENS = 256


@dataclass
class GenerationParams:
    """What one generation may do; ``None`` leaves a value to the engine."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    n: int = 1
    json_schema: dict[str, Any] | None = None
    """Constrain the output to this JSON schema (``{}``: any JSON object)."""

    def merged(self, values: dict[str, Any]) -> GenerationParams:
        """A copy with ``values`` (request or spec fields, OpenAI's names) applied."""
        new = dataclasses.replace(self, stop=list(self.stop))
        for name in ("max_tokens", "max_completion_tokens", "max_output_tokens", "max_new_tokens"):
            if values.get(name) is not None:
                new.max_tokens = _int(values[name], name, 1)
        if values.get("temperature") is not None:
            new.temperature = _number(values["temperature"], "temperature", 0.0, 2.0)
        if values.get("top_p") is not None:
            new.top_p = _number(values["top_p"], "top_p", 0.0, 1.0)
        if values.get("seed") is not None:
            new.seed = _int(values["seed"], "seed", -(2**63))
        if values.get("n") is not None:
            new.n = _int(values["n"], "n", 1, 16)
        stop = values.get("stop")
        if stop is not None:
            new.stop = _stops(stop)
        if "response_format" in values and values["response_format"] is not None:
            new.json_schema = schema_of(values["response_format"], "response_format")
        return new


def _int(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise bad_field(name, f"'{name}' must be an integer >= {low} (got {value!r})")
    if high is not None and value > high:
        raise bad_field(name, f"'{name}' must be at most {high} (got {value!r})")
    return value


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise bad_field(name, f"'{name}' must be a number from {low:g} to {high:g} (got {value!r})")
    return float(value)


def _stops(value: Any) -> list[str]:
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > 4:
        raise bad_field("stop", f"'stop' must be a string or up to 4 strings (got {value!r})")
    return [s for s in stops if s]


def schema_of(value: Any, name: str) -> dict[str, Any] | None:
    """The JSON schema a ``response_format`` (or responses' ``text.format``) asks for."""
    if not isinstance(value, dict):
        raise bad_field(name, f"'{name}' must be an object (got {value!r})")
    kind = value.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {}
    if kind == "json_schema":
        spec = value.get("json_schema", value)  # chat nests it; responses' text.format does not
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise bad_field(name, f"'{name}' of type json_schema needs a 'schema' object")
        return schema
    raise bad_field(
        f"{name}.type", f"'{name}.type' must be text, json_object or json_schema (got {kind!r})"
    )
