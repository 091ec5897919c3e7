"""The tracking record (wire.md): built in two halves so the request path stays cheap.

The request path puts an ``Item`` tuple on the queue: the model's static header (computed
once per model) and the per-request values. The background sender turns items into records
(``to_record``) and encodes them with orjson (``encode``), off the request path.
"""

from __future__ import annotations

import hashlib
import socket
import time
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from nuserve.context import ServingContext
    from nuserve.model.v2_model_server import V2ModelServer

SCHEMA = 1
OPTIONS = orjson.OPT_SERIALIZE_NUMPY
"""numpy arrays and scalars as JSON; non-string keys are retried with ``OPT_NON_STR_KEYS``
(always on, that option costs a third of the encoding time)."""


class Header:
    """What every record of one model shares, computed once per model."""

    __slots__ = ("custom_logged", "fields", "sampling", "template")

    def __init__(
        self, fields: dict[str, Any], sampling: dict[str, Any], custom_logged: bool
    ) -> None:
        self.fields = fields
        """``schema`` … ``labels``, in wire.md's order."""
        self.sampling = sampling
        """``sampling_percentage`` and ``effective_sample_count`` (the record's last keys)."""
        self.custom_logged = custom_logged
        """The model overrides ``logged_results``."""
        self.template: dict[str, Any] = to_record(
            (self, 0.0, 0.0, "", None, None, None, {}, None), 0.0
        )
        """A record whose per-request values ``encode_item`` overwrites (sender thread only):
        refilling a dict costs a third of building one."""


Item = tuple[Header, float, float, str, Any, Any, Any, dict[str, Any], str | None]
"""``(header, began, ended, op, request id, inputs, outputs, metrics, error)``; ``began`` and
``ended`` are ``time.perf_counter()`` readings (cheaper than the wall clock)."""

_HOST = socket.gethostname()


def endpoint_id(function_uri: str, model: str, version: str) -> str:
    """MLRun's model endpoint uid: sha1 of ``<function_uri>_<model>:<version or latest>``."""
    versioned = f"{model}:{version or 'latest'}"
    return hashlib.sha1(f"{function_uri}_{versioned}".encode(), usedforsecurity=False).hexdigest()


def model_header(
    model: V2ModelServer,
    context: ServingContext,
    percentage: float,
    sample_count: float,
    custom_logged: bool,
) -> Header:
    """The header of ``model``'s records.

    ``labels`` come from the model's ``labels`` class argument
    (``fn.add_model("m", class_name=..., labels={"team": "a"})``).
    """
    function_uri = context.function_name
    labels = model.class_args.get("labels")
    fields = {
        "schema": SCHEMA,
        "class": type(model).__name__,
        "model": model.name,
        "version": model.version,
        "function_uri": function_uri,
        "endpoint_id": endpoint_id(function_uri, model.name, model.version),
        "worker": context.worker_id,
        "host": _HOST,
        "labels": dict(labels) if isinstance(labels, dict) else {},
    }
    sampling = {
        "sampling_percentage": _plain(percentage),
        "effective_sample_count": _plain(sample_count),
    }
    return Header(fields, sampling, custom_logged)


def _plain(value: float) -> float | int:
    """``10.0`` → ``10``: whole numbers read as counts in the JSON."""
    return int(value) if float(value).is_integer() else value


_iso_ms = -1
_iso = ""


def iso_time(stamp: float) -> str:
    """``stamp`` (seconds since the epoch) as ISO 8601 UTC to the millisecond.

    One-slot cache: records sent together mostly share their millisecond.
    """
    global _iso_ms, _iso  # noqa: PLW0603 - the sender thread alone calls this
    ms = int(stamp * 1000)
    if ms != _iso_ms:
        second, milli = divmod(ms, 1000)
        _iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{milli:03d}+00:00"
        _iso_ms = ms
    return _iso


def to_record(item: Item, clock: float) -> dict[str, Any]:
    """The wire record of one queued item; ``clock`` is wall time minus ``perf_counter``."""
    header, began, ended, op, request_id, inputs, outputs, metrics, error = item
    record = {
        **header.fields,
        "when": iso_time(began + clock),
        "microsec": int((ended - began) * 1_000_000),
        "op": op,
        "request": {"id": request_id, "inputs": inputs},
        "resp": {"outputs": outputs},
        "metrics": metrics,
    }
    if error is not None:
        record["error"] = error
    record.update(header.sampling)
    return record


def encode_item(item: Item, clock: float) -> bytes:
    """One record as JSON; successful requests refill the header's template dict."""
    header, began, ended, op, request_id, inputs, outputs, metrics, error = item
    if error is not None:
        return encode(to_record(item, clock))
    record = header.template
    record["when"] = iso_time(began + clock)
    record["microsec"] = int((ended - began) * 1_000_000)
    record["op"] = op
    request = record["request"]
    request["id"] = request_id
    request["inputs"] = inputs
    record["resp"]["outputs"] = outputs
    record["metrics"] = metrics
    return encode(record)


def _fallback(value: Any) -> Any:
    """What orjson cannot encode natively: numpy leftovers, bytes, sets; else ``repr``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, set | frozenset):
        return list(value)
    tolist = getattr(value, "tolist", None)  # numpy arrays orjson refuses (non-contiguous)
    if callable(tolist):
        return tolist()
    return repr(value)


def encode(records: dict[str, Any] | list[dict[str, Any]]) -> bytes:
    """A record (a JSON object) or a list of them (a JSON array)."""
    try:
        return orjson.dumps(records, default=_fallback, option=OPTIONS)
    except orjson.JSONEncodeError:  # e.g. {1: "a"}: int keys are fine in Python, not in JSON
        return orjson.dumps(records, default=_fallback, option=OPTIONS | orjson.OPT_NON_STR_KEYS)
