"""A tracking record's ``request.inputs`` and ``resp.outputs`` as numbers to count.

Inputs arrive in the shapes wire.md allows: MLRun rows (``[[5.1, 3.5, ...], ...]`` or one
flat row), rows as dicts (``[{"petal_length": 1.4, ...}]``, matched by name), and Open
Inference Protocol tensors (``[{"name", "shape", "data"}]``: one 2-D tensor is rows by
features; several 1-D tensors are features matched by name, else by position). Anything
else yields no rows: the monitor counts the request but cannot judge drift from it.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from nuserve.monitoring.reference import Array

MAX_ROWS = 10_000
"""Rows read from one record at most (a giant batch must not stall the monitor)."""


def feature_rows(inputs: Any, names: list[str]) -> Array | None:
    """Rows by ``len(names)`` features as floats (NaN where a value is missing or not a
    number), or None when ``inputs`` has no recognisable shape."""
    if not isinstance(inputs, list) or not inputs or not names:
        return None
    first = inputs[0]
    if isinstance(first, dict) and "data" in first:
        return _tensors(inputs, names)
    if isinstance(first, dict):
        return _matrix(
            [[row.get(n) for n in names] for row in inputs[:MAX_ROWS] if isinstance(row, dict)],
            len(names),
        )
    if isinstance(first, list):
        return _matrix(inputs[:MAX_ROWS], len(names))
    return _matrix([inputs], len(names))


def _tensors(tensors: list[Any], names: list[str]) -> Array | None:
    valid = [t for t in tensors if isinstance(t, dict)]
    if len(valid) == 1:
        data = _floats(valid[0].get("data"))
        shape = valid[0].get("shape")
        if data is None:
            return None
        width = shape[-1] if isinstance(shape, list) and len(shape) >= 2 else len(names)
        if isinstance(width, int) and width > 0 and data.size % width == 0:
            return _fit(data.reshape(-1, width)[:MAX_ROWS], len(names))
        return None
    by_name = {t.get("name"): t for t in valid}
    chosen = [by_name.get(n) for n in names]
    if not all(chosen):
        chosen = list(valid[: len(names)])
    columns = [_floats(t.get("data")) if t else None for t in chosen]
    length = max((c.size for c in columns if c is not None), default=0)
    if length == 0:
        return None
    out = np.full((min(length, MAX_ROWS), len(names)), np.nan)
    for i, column in enumerate(columns):
        if column is not None and column.size == length:
            out[:, i] = column[:MAX_ROWS]
    return out


def _floats(data: Any) -> Array | None:
    if data is None:
        return None
    try:
        return np.asarray(data, dtype=float).ravel()
    except (TypeError, ValueError):
        return None


def _matrix(rows: list[Any], width: int) -> Array | None:
    try:
        array = np.asarray(rows, dtype=float)
    except (TypeError, ValueError):  # ragged or mixed rows: one value at a time
        array = np.array([[_number(v) for v in _row(r, width)] for r in rows], dtype=float)
    if array.ndim != 2:
        return None
    return _fit(array, width)


def _row(row: Any, width: int) -> list[Any]:
    values = list(row) if isinstance(row, list | tuple) else []
    return (values + [None] * width)[:width]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _fit(array: Array, width: int) -> Array:
    """Cut or pad (with NaN) the columns to ``width``."""
    if array.shape[1] >= width:
        return array[:, :width]
    pad = np.full((array.shape[0], width - array.shape[1]), np.nan)
    return np.hstack([array, pad])


def prediction_values(outputs: Any) -> list[Hashable]:
    """The values to count in the prediction distribution: one per row.

    A row that is a scalar counts as itself (a class or a rounded score); a row that is a
    list of numbers counts as the index of its largest value (a class from probabilities);
    OIP outputs count their first tensor's data the same way.
    """
    if (
        isinstance(outputs, list)
        and outputs
        and isinstance(outputs[0], dict)
        and "data" in outputs[0]
    ):
        tensor = outputs[0]
        shape = tensor.get("shape")
        data = _floats(tensor.get("data"))
        if data is None:
            return []
        if (
            isinstance(shape, list)
            and len(shape) >= 2
            and isinstance(shape[-1], int)
            and shape[-1] > 1
        ):
            return [int(i) for i in data.reshape(-1, shape[-1]).argmax(axis=1)[:MAX_ROWS]]
        outputs = data.tolist()
    if not isinstance(outputs, list):
        outputs = [outputs]
    values: list[Hashable] = []
    for row in outputs[:MAX_ROWS]:
        if isinstance(row, list | tuple):
            numbers = _floats(row)
            values.append(
                int(numbers.argmax()) if numbers is not None and numbers.size else "other"
            )
        elif isinstance(row, float):
            values.append(round(row, 3))
        elif isinstance(row, str | int | bool) or row is None:
            values.append(row)
        else:
            values.append("other")
    return values
