"""ASGI requests become the events the Nuclio adapter makes of the processor's; answers go back."""

from __future__ import annotations

from pathlib import Path

import nuclio_sdk
import orjson
import pytest

from nuserve.event import Response
from nuserve.nuclio.adapter import encoded, to_event, to_nuclio_response
from nuserve.serve.events import canonical_header, read_headers, request_event, response_head


def scope(path: str = "/v2/models/m/infer", query: bytes = b"") -> dict[str, object]:
    return {"method": "POST", "path": path, "query_string": query}


def test_header_names_are_canonical_like_go() -> None:
    assert canonical_header("x-request-id") == "X-Request-Id"
    assert canonical_header("CONTENT-TYPE") == "Content-Type"
    assert canonical_header("x-b3-traceid") == "X-B3-Traceid"
    assert canonical_header("bad header") == "bad header"  # not a token: left as it is


def test_read_headers_joins_repeats() -> None:
    raw = [(b"x-request-id", b"a"), (b"accept", b"text/plain"), (b"accept", b"application/json")]
    assert read_headers(raw) == {"X-Request-Id": "a", "Accept": "text/plain, application/json"}


def nuclio_http_event(raw: bytes, headers: dict[str, str], path: str = "/v2/models/m/infer"):
    """What Nuclio's Python wrapper hands the handler for an HTTP request: the body decoded
    from JSON only for exactly ``application/json``, bytes otherwise."""
    content_type = headers.get("Content-Type", "")
    body: object = raw
    if content_type == "application/json":
        try:
            body = orjson.loads(raw)
        except ValueError:
            body = raw
    return nuclio_sdk.Event(
        body=body,
        content_type=content_type,
        trigger=nuclio_sdk.TriggerInfo("http", "http"),
        headers=headers,
        _id="nuclio-event-id",
        method="POST",
        path=path,
        size=len(raw),
    )


FIELDS = ("body", "path", "method", "headers", "content_type", "trigger", "offset", "topic")


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (b'{"inputs": [1]}', {"Content-Type": "application/json", "X-Request-Id": "r1"}),
        (b'{"a": 1}', {"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "r"}),
        (b"{nope", {"Content-Type": "application/json", "X-Request-Id": "r2"}),
        (b"raw", {"Content-Type": "text/plain", "X-Request-Id": "r3"}),
        (b"", {"X-Request-Id": "r4"}),
    ],
)
def test_request_event_is_what_the_adapter_makes_of_a_nuclio_event(raw, headers) -> None:
    ours, lenient = request_event(scope(), raw, headers)
    assert not lenient  # orjson read it, or nothing could
    theirs = to_event(nuclio_http_event(raw, headers))
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(theirs, f) for f in FIELDS}
    assert ours.id == theirs.id == headers["X-Request-Id"]


def test_json_body_is_decoded_only_for_exactly_application_json() -> None:
    json = {"Content-Type": "application/json"}
    assert request_event(scope(), b'{"inputs": [1]}', json)[0].body == {"inputs": [1]}
    charset = {"Content-Type": "application/json; charset=utf-8"}
    assert request_event(scope(), b'{"a": 1}', charset)[0].body == b'{"a": 1}'
    assert request_event(scope(), b"{nope", json)[0].body == b"{nope"


def test_a_request_without_an_id_gets_a_new_one_each_time() -> None:
    ids = {request_event(scope(query=b"a=1"), b"", {})[0].id for _ in range(3)}
    assert len(ids) == 3 and all(ids)


def test_response_head_writes_type_length_id_and_headers() -> None:
    response = Response({}, headers={"X-Extra": 2, "Content-Length": "999"})
    assert response_head(response, "r", b'{"a": 1}', "application/json") == [
        (b"content-type", b"application/json"),
        (b"content-length", b"8"),
        (b"x-request-id", b"r"),
        (b"x-extra", b"2"),
    ]


@pytest.mark.parametrize(
    "response",
    [
        Response({"a": [1]}, 201, {"X-Extra": 2}),
        Response(b"raw", content_type="text/plain"),
        Response({"error": "x"}, 404, {"X-Request-Id": "theirs", "Allow": "GET"}),
        Response({"error": f"cannot open {Path.cwd()}/secret.toml"}, 500),
    ],
)
def test_an_answer_has_the_status_body_and_headers_nuclio_sends(response) -> None:
    """What ``nuserve serve`` writes is what the adapter hands Nuclio for the same answer."""
    context = nuclio_sdk.Context(None, None, 0, None)
    theirs = to_nuclio_response(context, response, "r")
    status, body, content_type = encoded(response, "r")
    ours = response_head(response, "r", body, content_type)
    assert (status, body, content_type) == (theirs.status_code, theirs.body, theirs.content_type)
    expected = {"content-type": theirs.content_type, "content-length": str(len(theirs.body))}
    expected.update((k.lower(), v) for k, v in theirs.headers.items())
    assert {k.decode(): v.decode() for k, v in ours} == expected
    assert len(ours) == len(expected)


def test_only_a_body_orjson_refused_and_python_json_read_is_lenient() -> None:
    """Such a body may hold NaN or 1e400 (as Nuclio's wrapper reads it): the adapter's
    checks run on it; an orjson body cannot, and skips them."""
    json = {"Content-Type": "application/json"}
    event, lenient = request_event(scope(), b'{"inputs": [[NaN, 1e400]]}', json)
    assert lenient and event.body["inputs"][0][1] == float("inf")
    assert request_event(scope(), b'{"inputs": [[1.5]]}', json)[1] is False
