"""ASGI requests become Nuclio HTTP events shaped like the processor's; responses go back."""

from __future__ import annotations

import nuclio_sdk

from nuserve.serve.events import canonical_header, http_event, read_headers, response_start


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


def test_json_body_is_decoded_only_for_exactly_application_json() -> None:
    event = http_event(scope(), b'{"inputs": [1]}', {}, "application/json")
    assert isinstance(event, nuclio_sdk.Event)
    assert event.body == {"inputs": [1]}
    assert (
        http_event(scope(), b'{"a": 1}', {}, "application/json; charset=utf-8").body == b'{"a": 1}'
    )
    assert http_event(scope(), b"{nope", {}, "application/json").body == b"{nope"


def test_event_fields_match_nuclio_http_events() -> None:
    headers = {"X-Request-Id": "r"}
    event = http_event(scope(query=b"a=1&b=two"), b"raw", headers, "text/plain")
    assert (event.trigger.kind, event.trigger.name) == ("http", "http")
    assert event.path == "/v2/models/m/infer"
    assert event.method == "POST"
    assert event.fields == {"a": "1", "b": "two"}
    assert event.headers is headers
    assert event.content_type == "text/plain"
    assert event.size == 3
    assert event.id and event.id != http_event(scope(), b"", {}, "").id


def test_response_start_writes_status_headers_and_bytes() -> None:
    response = nuclio_sdk.Response(
        body='{"a": 1}',
        headers={"X-Request-Id": "r", "Content-Length": "999"},
        content_type="application/json",
        status_code=201,
    )
    status, headers, body = response_start(response)
    assert status == 201
    assert body == b'{"a": 1}'
    assert headers == [
        (b"content-type", b"application/json"),
        (b"content-length", b"8"),
        (b"x-request-id", b"r"),
    ]


def test_response_start_serialises_a_non_bytes_body() -> None:
    _, _, body = response_start(nuclio_sdk.Response(body={"a": [1]}))
    assert body == b'{"a":[1]}'
    _, _, body = response_start(nuclio_sdk.Response(body=None))
    assert body == b""
