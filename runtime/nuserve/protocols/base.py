"""The protocol contract and the JSON decoding every protocol shares."""

from __future__ import annotations

from typing import Any

import orjson

from nuserve.errors import BadRequest


def decode_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse a JSON body; a parse error is a 400 that quotes the parser's complaint."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


class Protocol:
    """A request/response body format; subclasses override ``decode`` and ``encode``."""

    name = "base"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        """The request dict the model's hooks see."""
        return body

    def encode(self, response: dict[str, Any], request: dict[str, Any]) -> Any:
        """The body sent back, from the model's response dict."""
        return response
