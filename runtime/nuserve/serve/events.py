"""ASGI ↔ Nuclio: real ``nuclio_sdk`` events from HTTP requests, and responses back.

The event looks like the one Nuclio's HTTP trigger hands to the Python runtime: header names
in Go's canonical form (``X-Request-Id``), the path without its query string (the query goes
to ``fields``), and a body decoded from JSON only when the content type is exactly
``application/json`` (a body that is not JSON stays bytes, as the SDK leaves it). It is
decoded as Nuclio's wrapper decodes it: orjson first, and when orjson refuses it, Python's
``json`` (which reads ``NaN`` and ``1e400``), so the adapter meets the same body under both
and answers it the same (a non-finite number is a 400 naming where).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import nuclio_sdk
import orjson

from nuserve.codec import dump_json
from nuserve.event import new_event_id
from nuserve.serve.types import Scope

JSON = "application/json"
HTTP_TRIGGER = nuclio_sdk.TriggerInfo("http", "http")
MAX_CACHED_NAMES = 512
_SKIPPED = frozenset({b"content-type", b"content-length", b"connection", b"transfer-encoding"})

_canonical: dict[bytes, str] = {}
_raw_names: dict[str, bytes] = {}
_content_types: dict[str, bytes] = {JSON: JSON.encode()}


def canonical_header(name: str) -> str:
    """Go's ``CanonicalMIMEHeaderKey``: ``x-request-id`` → ``X-Request-Id``.

    Like Go, a name holding a character that is not a token character is left as it is.
    """
    if not name or any(c in ' \t"(),/:;<=>?@[\\]{}' or ord(c) > 126 for c in name):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _name(raw: bytes) -> str:
    name = _canonical.get(raw)
    if name is None:
        name = canonical_header(raw.decode("latin-1"))
        if len(_canonical) < MAX_CACHED_NAMES:
            _canonical[raw] = name
    return name


def read_headers(raw_headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as Nuclio gives them: ``{"Canonical-Name": "value"}``; repeats joined."""
    headers: dict[str, str] = {}
    cached = _canonical.get
    for raw, value in raw_headers:
        name = cached(raw) or _name(raw)
        if name in headers:
            headers[name] += ", " + value.decode("latin-1")
        else:
            headers[name] = value.decode("latin-1")
    return headers


def http_event(
    scope: Scope, raw: bytes, headers: dict[str, str], content_type: str
) -> nuclio_sdk.Event:
    """A Nuclio HTTP event for one request whose whole body is ``raw``."""
    body: Any = raw
    if content_type == JSON:
        try:
            body = orjson.loads(raw)
        except ValueError:
            body = _as_nuclio_decodes(raw)
    query = scope["query_string"]
    return nuclio_sdk.Event(
        body=body,
        content_type=content_type,
        trigger=HTTP_TRIGGER,
        fields=dict(parse_qsl(query.decode("latin-1"))) if query else None,
        headers=headers,
        _id=new_event_id(),
        method=scope["method"],
        path=scope["path"],
        size=len(raw),
    )


def _as_nuclio_decodes(raw: bytes) -> Any:
    """Nuclio's SDK: ``json.loads(body.decode("utf-8"))``, the bytes kept when that fails
    (the handler then answers 400)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return raw


def response_start(response: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """``(status, ASGI headers, body bytes)`` of a ``nuclio_sdk.Response``."""
    body = response.body
    if type(body) is not bytes:
        if isinstance(body, str):
            body = body.encode()
        elif isinstance(body, bytearray | memoryview):
            body = bytes(body)
        else:
            body = b"" if body is None else dump_json(body)
    content_type = response.content_type or "text/plain"
    ctype = _content_types.get(content_type)
    if ctype is None:
        ctype = content_type.encode("latin-1", "replace")
        if len(_content_types) < MAX_CACHED_NAMES:
            _content_types[content_type] = ctype
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    cached = _raw_names.get
    for key, value in response.headers.items():
        name = cached(key) or _raw_name(key)
        if name not in _SKIPPED:
            text = value if type(value) is str else str(value)
            headers.append((name, text.encode("latin-1", "replace")))
    return response.status_code, headers, body


def _raw_name(key: str) -> bytes:
    name = str(key).lower().encode("latin-1", "replace")
    if len(_raw_names) < MAX_CACHED_NAMES:
        _raw_names[key] = name
    return name
