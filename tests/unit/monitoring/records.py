"""Tracking records in wire.md's format, for the monitoring tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
_ids = itertools.count()


def iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")


def record(
    when: float,
    inputs: Any = None,
    outputs: Any = None,
    *,
    model: str = "iris",
    function: str = "fn",
    microsec: int = 1000,
    error: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A tracking record as wire.md describes it."""
    body: dict[str, Any] = {
        "schema": 1,
        "class": "IrisClassifier",
        "model": model,
        "version": "",
        "function_uri": function,
        "endpoint_id": f"{function}-{model}",
        "worker": 0,
        "host": "h",
        "labels": {},
        "when": iso(when),
        "microsec": microsec,
        "op": "infer",
        "request": {"id": str(next(_ids)), "inputs": inputs},
        "resp": {"outputs": outputs},
        "metrics": metrics or {},
        "sampling_percentage": 100,
        "effective_sample_count": 1,
    }
    if error is not None:
        body["error"] = error
    return body
