"""The protocol contract and the JSON decoding every protocol shares."""

from __future__ import annotations

from typing import Any

import orjson

from nuserve.errors import BadRequest
from nuserve.event import Event, Response
from nuserve.protocols.binary_header import header_length, is_binary
from nuserve.protocols.finite import lenient_non_finite

_TEXT = (bytes, str)
JSON_CONTENT_TYPE = "application/json"
"""The one content type whose body Nuclio's Python SDK decodes before the handler sees it
(``nuserve serve``'s adapter does as Nuclio does)."""


def decode_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse a JSON body; a parse error is a 400 that quotes the parser's complaint (or,
    for a non-finite number, names where it is: ``nuserve.protocols.finite``)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise invalid_json(data, exc) from None


def invalid_json(data: bytes | bytearray | memoryview | str, exc: Exception) -> BadRequest:
    """The 400 for a body orjson refused."""
    return lenient_non_finite(data) or BadRequest(f"request body is not valid JSON: {exc}")


def is_raw(body: Any, content_type: str | None) -> bool:
    """Whether ``body`` is still the request's bytes or text, not a decoded JSON value.

    Each body is decoded once. Nuclio decodes a body of content type exactly
    ``application/json`` (one it cannot decode stays bytes), so a ``str`` under that type is
    a JSON string: decoding it again made the string ``"abc"`` a 400, and a string holding a
    JSON object ran inference. Bytes are always raw; so is text under any other type (or
    none: in-process callers and stream messages).
    """
    cls = body.__class__
    if cls is str:
        return content_type != JSON_CONTENT_TYPE
    return cls is bytes or cls is bytearray or cls is memoryview


def decode_body(raw: Any, need_dict: bool = True, content_type: str | None = None) -> Any:
    """Decode a raw body (bytes or str) into JSON; inference needs a JSON object.

    ``content_type`` is the request's: a ``str`` body Nuclio decoded already is not decoded
    again (``is_raw``).
    """
    if raw.__class__ is bytes and raw:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise invalid_json(raw, exc) from None
    elif raw.__class__ is str and content_type == JSON_CONTENT_TYPE:
        value = raw  # a JSON string, decoded by Nuclio
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


def event_body(event: Event) -> dict[str, Any]:
    """The request body of an inference event as a JSON object, decoded once (kept on the
    event); with the binary extension, its binary tensors are arrays in their ``data``."""
    body = event.body
    if type(body) is dict:
        return body
    if is_binary(event.headers) and body.__class__ in (bytes, bytearray, memoryview, str):
        from nuserve.protocols.oip_binary import split_body  # noqa: PLC0415 - numpy

        length = header_length(event.headers)
        raw = body.encode() if isinstance(body, str) else body
        if length is not None:
            event.body = split_body(raw, length)
            return event.body  # type: ignore[no-any-return]
    event.body = decode_body(body, content_type=event.content_type)
    return event.body  # type: ignore[no-any-return]


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

    def respond(
        self, response: dict[str, Any], request: dict[str, Any], output_name: str | None = None
    ) -> Response:
        """The answer to ``request``: ``encode``'s body, or (OIP) binary tensors with their
        header. ``output_name`` names a model's one unnamed output (its spec's)."""
        return Response(self.encode(response, request))
