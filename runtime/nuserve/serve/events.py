"""ASGI ↔ the graph: an HTTP request as the event Nuclio's trigger would give, and answers back.

The event is the one ``nuserve.nuclio.adapter`` makes of what Nuclio's HTTP trigger hands the
Python runtime: header names in Go's canonical form (``X-Request-Id``), the path without its
query string, and a body decoded from JSON only when the content type is exactly
``application/json`` (a body that is not JSON stays bytes, as the SDK leaves it): orjson
first, and when orjson refuses it, Python's ``json`` as the wrapper does (it reads ``NaN`` and
``1e400``), so the adapter meets the same body under both and answers it the same (a
non-finite number is a 400 naming where: ``adapter.answer_async``). It is built here
directly: going through a ``nuclio_sdk.Event`` and a ``nuclio_sdk.Response`` cost a quarter
of the server's own time per request, and gave the same answer.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from nuserve.event import Event, Response, new_event_id
from nuserve.protocols.binary_header import BINARY_HEADER
from nuserve.serve.types import Scope

JSON = "application/json"
Header = tuple[bytes, bytes]
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


def request_event(
    scope: Scope, raw: bytes | bytearray, headers: dict[str, str]
) -> tuple[Event, bool]:
    """The event of one HTTP request whose whole body is ``raw``: what Nuclio's HTTP trigger
    and ``nuserve.nuclio.adapter.to_event`` make of it, without the ``nuclio_sdk.Event`` in
    between (tests/unit/serve/test_events.py checks the two agree).

    The body is decoded from JSON only when the content type is exactly ``application/json``,
    as Nuclio's Python wrapper does; a body that does not parse stays bytes (the graph
    answers 400). The query string is not part of the event, as in ``to_event``.

    With it, whether Python's ``json`` decoded the body (orjson refused it): only such a body
    can hold a non-finite number, so only it needs ``adapter.answer_async``'s check (walking
    every body cost more than the rest of the request's own work).
    """
    content_type = headers.get("Content-Type", "")
    body: Any = raw
    lenient = False
    if content_type == JSON and BINARY_HEADER not in headers:  # binary tensors follow JSON
        try:
            body = orjson.loads(raw)
        except ValueError:
            body = _as_nuclio_decodes(raw)
            lenient = body is not raw
    event = Event(
        body,
        scope["path"] or "/",
        scope["method"],
        headers,
        content_type,
        headers.get("X-Request-Id") or new_event_id(),
        "http",
    )
    return event, lenient


def _as_nuclio_decodes(raw: bytes | bytearray) -> Any:
    """Nuclio's SDK: ``json.loads(body.decode("utf-8"))``, the bytes kept when that fails
    (the handler then answers 400)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return raw


def response_head(
    response: Response, event_id: str, body: bytes, content_type: str
) -> list[Header]:
    """The ASGI headers of an answer: its type and length, the request's id, then the
    response's own headers (lower-cased; the ones the server writes itself are left out), as
    ``nuserve.nuclio.adapter.to_nuclio_response`` orders them."""
    head = [
        (b"content-type", _media_type(content_type)),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", event_id.encode("latin-1", "replace")),
    ]
    if response.headers:
        cached = _raw_names.get
        for key, value in response.headers.items():
            name = cached(key) or _raw_name(key)
            if name in _SKIPPED:
                continue
            text = value if type(value) is str else str(value)
            header = (name, text.encode("latin-1", "replace"))
            if name == b"x-request-id":
                head[2] = header  # the response's own id wins, as in the adapter's dict
            else:
                head.append(header)
    return head


def streamed_head(headers: dict[str, str], content_type: str) -> list[Header]:
    """The ASGI headers of a streamed answer (``adapter.stream_head``'s): no length, the
    server sends it chunked."""
    head = [(b"content-type", _media_type(content_type))]
    cached = _raw_names.get
    for key, value in headers.items():
        name = cached(key) or _raw_name(key)
        if name not in _SKIPPED:
            head.append((name, value.encode("latin-1", "replace")))
    return head


def _media_type(content_type: str) -> bytes:
    ctype = _content_types.get(content_type)
    if ctype is None:
        ctype = (content_type or "text/plain").encode("latin-1", "replace")
        if len(_content_types) < MAX_CACHED_NAMES:
            _content_types[content_type] = ctype
    return ctype


def _raw_name(key: str) -> bytes:
    name = str(key).lower().encode("latin-1", "replace")
    if len(_raw_names) < MAX_CACHED_NAMES:
        _raw_names[key] = name
    return name
