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
    from nuserve.model import V2ModelServer

SCHEMA = 1
OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

Item = tuple[dict[str, Any], float, int, str, Any, Any, Any, dict[str, Any], str | None]
"""``(header, start time, microseconds, op, request id, inputs, outputs, metrics, error)``."""

_HOST = socket.gethostname()


def endpoint_id(function_uri: str, model: str, version: str) -> str:
    """MLRun's model endpoint uid: sha1 of ``<function_uri>_<model>:<version or latest>``."""
    versioned = f"{model}:{version or 'latest'}"
    return hashlib.sha1(f"{function_uri}_{versioned}".encode(), usedforsecurity=False).hexdigest()


def model_header(
    model: V2ModelServer,
    context: ServingContext,
    sampling_percentage: float,
    effective_sample_count: float,
) -> dict[str, Any]:
    """The fields every record of ``model`` shares, in wire.md's order.

    ``labels`` come from the model's ``labels`` class argument
    (``fn.add_model("m", class_name=..., labels={"team": "a"})``).
    """
    function_uri = context.function_name
    labels = model.class_args.get("labels")
    return {
        "schema": SCHEMA,
        "class": type(model).__name__,
        "model": model.name,
        "version": model.version,
        "function_uri": function_uri,
        "endpoint_id": endpoint_id(function_uri, model.name, model.version),
        "worker": context.worker_id,
        "host": _HOST,
        "labels": dict(labels) if isinstance(labels, dict) else {},
        "sampling_percentage": _plain(sampling_percentage),
        "effective_sample_count": _plain(effective_sample_count),
    }


def _plain(value: float) -> float | int:
    """``10.0`` → ``10``: whole numbers read as counts in the JSON."""
    return int(value) if float(value).is_integer() else value


_iso_second = -1
_iso_prefix = ""


def iso_time(stamp: float) -> str:
    """``stamp`` (seconds since the epoch) as ISO 8601 UTC with microseconds."""
    global _iso_second, _iso_prefix  # noqa: PLW0603 - one-slot cache, sender thread only
    second = int(stamp)
    if second != _iso_second:
        _iso_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _iso_second = second
    return f"{_iso_prefix}.{int((stamp - second) * 1e6):06d}+00:00"


def to_record(item: Item) -> dict[str, Any]:
    """The wire record of one queued item."""
    header, start, microsec, op, request_id, inputs, outputs, metrics, error = item
    record = {
        "schema": SCHEMA,
        "class": header["class"],
        "model": header["model"],
        "version": header["version"],
        "function_uri": header["function_uri"],
        "endpoint_id": header["endpoint_id"],
        "worker": header["worker"],
        "host": header["host"],
        "labels": header["labels"],
        "when": iso_time(start),
        "microsec": microsec,
        "op": op,
        "request": {"id": request_id, "inputs": inputs},
        "resp": {"outputs": outputs},
        "metrics": metrics,
    }
    if error is not None:
        record["error"] = error
    record["sampling_percentage"] = header["sampling_percentage"]
    record["effective_sample_count"] = header["effective_sample_count"]
    return record


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
    """One message: a record (a JSON object) or a batch of them (a JSON array)."""
    return orjson.dumps(records, default=_fallback, option=OPTIONS)
