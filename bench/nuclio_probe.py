"""A handler.py for the real processor that notes what Nuclio's wrapper hands the handler.

``bench/nuclio_kafka.py`` copies this file over the deploy directory's ``handler.py`` (the
function.yaml is untouched: ``handler: handler:handler``). Each kafka-cluster event is
described (``describe``: every field with its type) into ``events.jsonl`` beside this file,
then passed to nuserve's own handler unchanged. ``describe`` is also what the comparison
applies to the events ``nuserve serve`` builds (``nuserve.serve.kafka.kafka_event``), so the
two are described by the same code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nuserve.nuclio.adapter import handler as _handler
from nuserve.nuclio.adapter import handler_async as _handler_async
from nuserve.nuclio.adapter import init_context

__all__ = ["FIELDS", "describe", "handler", "handler_async", "init_context"]

EVENTS = Path(__file__).resolve().with_name("events.jsonl")
FIELDS = (
    "body", "content_type", "fields", "method", "path", "size", "timestamp", "url",
    "shard_id", "num_shards", "type", "type_version", "version", "offset", "topic",
)  # fmt: skip
"""The fields of ``nuclio_sdk.Event`` a handler reads (the id is noted on its own)."""


def typed(value: Any) -> str:
    """``type: repr`` of a value (``repr`` shows a datetime's tzinfo and a bytes' b'')."""
    return f"{type(value).__name__}: {value!r}"


def describe(event: Any) -> dict[str, Any]:
    """Each field of ``event`` with its type; headers one by one; the trigger; the id."""
    headers = getattr(event, "headers", None)
    trigger = getattr(event, "trigger", None)
    described: dict[str, Any] = {name: typed(getattr(event, name, "<absent>")) for name in FIELDS}
    described["headers"] = (
        {str(k): typed(v) for k, v in sorted(headers.items())}
        if isinstance(headers, dict)
        else typed(headers)
    )
    described["trigger"] = [getattr(trigger, "kind", None), getattr(trigger, "name", None)]
    described["id"] = typed(getattr(event, "id", None))
    return described


def _note(event: Any) -> None:
    if getattr(getattr(event, "trigger", None), "kind", None) == "kafka-cluster":
        with EVENTS.open("a", encoding="utf-8") as out:
            out.write(json.dumps(describe(event)) + "\n")


def handler(context: Any, event: Any) -> Any:
    _note(event)
    return _handler(context, event)


async def handler_async(context: Any, event: Any) -> Any:
    _note(event)
    return await _handler_async(context, event)
