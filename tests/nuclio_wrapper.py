"""Events exactly as Nuclio 1.14's Python wrapper hands them to the handler.

Nuclio's processor encodes each event as a msgpack map (``pkg/processor/runtime/rpc/encoder``:
``eventAsMap`` plus the body) and the wrapper (``_nuclio_wrapper.py``, started with
``--decode-event-strings``, its default) reads it with ``msgpack.Unpacker(raw=False)`` and
``nuclio_sdk.Event.deserialize(..., kind=EventDeserializerKinds.msgpack)``. These helpers
build the map as the Go side does and run it through those same two real steps, so a test
meets the SDK's own decoding: a body of content type ``application/json`` decoded by Python's
``json`` (``NaN`` and ``1e400`` included), Kafka header values as bytes, ``''`` for the
fields a Kafka message has not, a naive whole-second timestamp.
"""

from __future__ import annotations

from typing import Any

import msgpack
import nuclio_sdk
from nuclio_sdk.event import EventDeserializerKinds

NUCLIO_EVENT_ID = "9f0c1b52-3e4d-4c1a-9d8e-5b2f7a6c0e11"
"""The id one Nuclio worker gives every event it hands out (it is set once per worker)."""


def wrapper_event(fields: dict[str, Any]) -> nuclio_sdk.Event:
    """The ``nuclio_sdk.Event`` the wrapper makes of the processor's msgpack map ``fields``."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=1 << 30)
    unpacker.feed(msgpack.packb(fields, use_bin_type=True))
    return nuclio_sdk.Event.deserialize(next(unpacker), kind=EventDeserializerKinds.msgpack)


def _fields(**values: Any) -> dict[str, Any]:
    """``eventAsMap`` of Go's ``nuclio.AbstractEvent`` (zero values), updated by ``values``."""
    fields: dict[str, Any] = {
        "content_type": "", "content-type": "", "trigger": {"kind": "", "name": ""},
        "fields": None, "headers": None, "id": NUCLIO_EVENT_ID, "method": "", "path": "",
        "size": 0, "timestamp": 0, "url": "", "shard_id": 0, "num_shards": 0, "type": "",
        "type_version": "", "version": "", "offset": 0, "topic": "", "body": None,
    }  # fmt: skip
    fields.update(values)
    fields["content-type"] = fields["content_type"]
    body = fields["body"]
    fields["size"] = len(body) if isinstance(body, bytes) else 0
    return fields


def http_fields(
    body: bytes,
    path: str = "/",
    content_type: str = "application/json",
    method: str = "POST",
    headers: dict[str, str] | None = None,
    event_id: str = NUCLIO_EVENT_ID,
    timestamp: int = 1_700_000_000,
) -> dict[str, Any]:
    """The map Nuclio's HTTP trigger sends: headers ``{name: str}``, the body as bytes."""
    all_headers = {"Content-Type": content_type, **(headers or {})}
    return _fields(
        body=body, content_type=content_type, trigger={"kind": "http", "name": "http"},
        headers=all_headers, id=event_id, method=method, path=path, timestamp=timestamp,
        url=f"http://127.0.0.1:8080{path}",
    )  # fmt: skip


def http_event(body: bytes, path: str = "/", **kw: Any) -> nuclio_sdk.Event:
    return wrapper_event(http_fields(body, path, **kw))


def kafka_fields(
    value: bytes | None,
    topic: str = "in",
    partition: int = 0,
    offset: int = 0,
    headers: list[tuple[str, bytes | None]] | None = None,
    timestamp: int = 1_700_000_000,
    trigger: str = "kafka",
    event_id: str = NUCLIO_EVENT_ID,
) -> dict[str, Any]:
    """The map Nuclio's kafka-cluster trigger sends (``pkg/processor/trigger/kafka/event.go``):
    the value as bytes (``None`` for a tombstone), headers ``{str: bytes}``, path = topic."""
    return _fields(
        body=value, trigger={"kind": "kafka-cluster", "name": trigger}, id=event_id,
        headers={k: v for k, v in headers or []}, path=topic, topic=topic,
        shard_id=partition, offset=offset, timestamp=timestamp,
    )  # fmt: skip


def kafka_event(value: bytes | None, **kw: Any) -> nuclio_sdk.Event:
    return wrapper_event(kafka_fields(value, **kw))


def v3io_event(
    data: bytes, stream_path: str = "/container/stream", shard: int = 0, sequence: int = 1
) -> nuclio_sdk.Event:
    """The map Nuclio's v3ioStream trigger sends (``pkg/processor/trigger/v3iostream``)."""
    fields = _fields(
        body=data, trigger={"kind": "v3ioStream", "name": "v3io"}, topic=stream_path,
        shard_id=shard, offset=sequence, timestamp=1_700_000_000,
    )  # fmt: skip
    return wrapper_event(fields)


def event_fields(event: nuclio_sdk.Event) -> dict[str, Any]:
    """Every attribute of an event, with the trigger as ``(kind, name)``: for comparisons."""
    values = dict(vars(event))
    values["trigger"] = (event.trigger.kind, event.trigger.name)
    return values
