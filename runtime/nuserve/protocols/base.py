"""The protocol contract and the JSON decoding every protocol shares."""

from __future__ import annotations

from typing import Any

import orjson

from nuserve.errors import BadRequest

_TEXT = (bytes, str)


def decode_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse a JSON body; a parse error is a 400 that quotes the parser's complaint."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


def decode_body(raw: Any, need_dict: bool = True) -> Any:
    """Decode a raw body (bytes or str) into JSON; inference needs a JSON object."""
    if raw.__class__ is bytes and raw:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from None
    elif raw is None or (raw.__class__ in _TEXT and not raw):  # not ``in``: arrays compare
        if need_dict:
            raise BadRequest('request body is empty; send a JSON object such as {"inputs": [...]}')
        return raw
    else:
        value = decode_json(raw) if isinstance(raw, bytes | bytearray | memoryview | str) else raw
    if need_dict and type(value) is not dict:
        raise BadRequest(
            f"request body must be a JSON object (got {type(value).__name__}); "
            'send {"inputs": [[...], ...]}'
        )
    return value


def is_oip_request(body: object) -> bool:
    """True for ``{"inputs": [{"name":..., "datatype":..., ...}, ...]}`` (not MLRun rows)."""
    if not isinstance(body, dict):
        return False
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        return False
    first = inputs[0]
    return isinstance(first, dict) and ("datatype" in first or "data" in first or "shape" in first)


class Protocol:
    """A request/response body format; subclasses override ``decode`` and ``encode``."""

    name = "base"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request dict the model's hooks see."""
        return body

    def encode(self, response: dict[str, Any], request: dict[str, Any]) -> Any:
        """The body sent back, from the model's response dict."""
        return response
