"""Checks of a request's inputs against the model spec's features, before ``predict``.

A model whose spec lists its features (``model_spec.yaml``) can be sent empty, ragged,
mistyped or mis-shaped inputs; its own code (sklearn, say) would fail on them with a 500.
``check_rows`` turns each of those into a 400 naming what was expected.

Values outside their feature's value type (``1e308`` for a ``float``, MLRun's 32-bit type;
``inf`` or ``NaN`` in a tensor) are refused too: sklearn answered them with a meaningless
class and two warnings in the log per request. ``bounds_of`` gives the range the spec allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import chain
from typing import Any

from nuserve.errors import BadRequest
from nuserve.protocols.datatypes import ACCEPTS, oip_datatype

NUMERIC_TYPES = ("float", "double", "int", "uint", "long")
"""Model spec value types (MLRun's, by prefix) whose rows must hold numbers."""
DTYPES = {
    "float16": "float16",
    "float32": "float32",
    "float": "float32",  # MLRun's ValueType.FLOAT; "double" is 64 bits
    "float64": "float64",
    "double": "float64",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int": "int64",  # MLRun's ValueType.INT64
    "int64": "int64",
    "long": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "uint": "uint64",
}
"""Value types whose range is known, and the numpy type that gives it (numpy is imported
when a spec is read, not with ``nuserve``)."""
Bounds = tuple[float, float]
_NUMBERS = frozenset({float, int})
"""The types a numeric row's values may have (``bool`` is not a number here)."""
_LISTS = frozenset({list})
"""The type a row may have (what a JSON array decodes to)."""
FEW_ROWS = 8
"""Up to this many rows, one walk row by row is cheaper than the whole-list passes (their
numpy calls cost microseconds each); past it, the passes are (4 µs against 0.3 ms at 1,000)."""


def bounds_of(value_types: Sequence[str]) -> Bounds | None:
    """The range every feature's value type allows (the narrowest of them), or ``None`` when
    a feature's type gives no range."""
    import numpy as np  # noqa: PLC0415 - `import nuserve` does not import numpy

    lows, highs = [], []
    for value_type in value_types:
        dtype = DTYPES.get(value_type.lower())
        if dtype is None:
            return None
        kind = np.dtype(dtype)
        info: Any = np.finfo(kind) if kind.kind == "f" else np.iinfo(kind)
        lows.append(float(info.min))
        highs.append(float(info.max))
    return (max(lows), min(highs)) if lows else None


def _range_error(name: str, where: str, value: Any, bounds: Bounds) -> BadRequest:
    return BadRequest(
        f"model '{name}' expects finite values from {bounds[0]:.6g} to {bounds[1]:.6g}, as "
        f"its model spec's value types allow ({where} has {value!r}); scale or clip the input"
    )


def check_rows(
    name: str, inputs: Any, width: int, numeric: bool, bounds: Bounds | None = None
) -> None:
    """At least one row of ``width`` features (numbers when the spec says so, finite and
    within ``bounds`` when given): the model's own code would otherwise fail on the request
    with a 500, or answer nonsense. An OIP tensor, decoded to an array, must be
    ``[rows, width]``."""
    shape = getattr(inputs, "shape", None)
    if shape is not None:
        kind = inputs.dtype.kind
        if len(shape) != 2 or shape[1] != width or not shape[0] or (numeric and kind not in "biuf"):
            numbers = " of numbers" if numeric else ""
            raise BadRequest(
                f"model '{name}' expects a tensor of shape [rows, {width}]{numbers} "
                f"(got shape {list(shape)} of {inputs.dtype})"
            )
        if numeric and kind in "iuf":
            _check_tensor(name, inputs, bounds)
        return
    if type(inputs) is dict and inputs and all(hasattr(v, "shape") for v in inputs.values()):
        return  # several named OIP tensors: the model combines them
    if type(inputs) is not list or not inputs:
        got = "no rows" if type(inputs) is list else type(inputs).__name__
        raise BadRequest(f"model '{name}' expects a list of rows of {width} features (got {got})")
    if len(inputs) > FEW_ROWS and _rows_fit(inputs, width, numeric, bounds):
        return
    _walk_rows(name, inputs, width, numeric, bounds)


def _rows_fit(inputs: list[Any], width: int, numeric: bool, bounds: Bounds | None) -> bool:
    """Whether every row passes, by whole-list passes in C (at 1,000 rows the Python loop
    per row and ``min``/``max`` per row cost more than the request's parse and predict)."""
    if not _LISTS.issuperset(map(type, inputs)) or set(map(len, inputs)) != {width}:
        return False
    if not numeric:
        return True
    if not _NUMBERS.issuperset(map(type, chain.from_iterable(inputs))):
        return False
    if bounds is None:
        return True
    import numpy as np  # noqa: PLC0415 - `import nuserve` does not import numpy

    try:
        values = np.fromiter(chain.from_iterable(inputs), np.float64, len(inputs) * width)
    except OverflowError:  # an int past float64's range: outside any bounds
        return False
    return bool(bounds[0] <= values.min() and values.max() <= bounds[1])


def _walk_rows(
    name: str, inputs: list[Any], width: int, numeric: bool, bounds: Bounds | None
) -> None:
    """Row by row: the 400 naming the first row that does not fit, none when all do. The
    cheapest check for a few rows; for more, it runs only when ``_rows_fit`` found a row
    that does not fit, or one that is a list subclass (a row too)."""
    all_numbers = _NUMBERS.issuperset
    for i, row in enumerate(inputs):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise BadRequest(
                f"model '{name}' expects rows of {width} features (row {i} has {size})"
            )
        if numeric and not all_numbers(map(type, row)):
            bad = next(v for v in row if type(v) is not float and type(v) is not int)
            raise BadRequest(f"model '{name}' expects numbers (row {i} has {bad!r})")
    if numeric and bounds is not None:
        low, high = bounds
        for i, row in enumerate(inputs):
            for value in row:
                if not low <= value <= high:  # NaN too
                    raise _range_error(name, f"row {i}", value, bounds)


def _check_tensor(name: str, inputs: Any, bounds: Bounds | None) -> None:
    """No ``inf`` or ``NaN`` in a float tensor, and values within ``bounds``."""
    import numpy as np  # noqa: PLC0415 - the tensor is numpy's already

    if inputs.dtype.kind == "f" and not np.isfinite(inputs).all():
        bad = inputs[~np.isfinite(inputs)].flat[0].item()
        raise _range_error(name, "the tensor", bad, bounds or (-math.inf, math.inf))
    if bounds is not None and inputs.size:
        low, high = inputs.min().item(), inputs.max().item()
        if low < bounds[0] or high > bounds[1]:
            raise _range_error(name, "the tensor", low if low < bounds[0] else high, bounds)


Accepts = tuple[dict[str, tuple[str, frozenset[str]]], frozenset[str]]
"""Per spec input name: ``(its OIP datatype, the request datatypes it takes)``; and the
datatypes an input not named in the spec may have (one tensor holding every feature: those
some typed input takes, as the model's own code casts a row to one type)."""


def accepted_datatypes(features: Sequence[Any]) -> Accepts | None:
    """What OIP datatypes the spec's inputs take, or ``None`` when no input is typed."""
    named: dict[str, tuple[str, frozenset[str]]] = {}
    for feature in features:
        if feature.value_type:
            datatype = oip_datatype(feature.value_type)
            named[feature.name] = (datatype, ACCEPTS[datatype])
    if not named:
        return None
    sets = [accepts for _, accepts in named.values()]
    return named, frozenset.union(*sets)


def check_datatypes(name: str, body: dict[str, Any], accepts: Accepts) -> None:
    """Each OIP input tensor's datatype is one the model spec takes: an input named in the
    spec by its own type, another (``input-0`` holding every feature) by all of them."""
    named, anonymous = accepts
    inputs = body.get("inputs")
    for tensor in inputs if isinstance(inputs, list) else ():
        if not isinstance(tensor, dict):
            continue
        datatype = tensor.get("datatype")
        if not isinstance(datatype, str):
            continue  # the codec names the missing datatype
        input_name = tensor.get("name")
        spec = named.get(input_name) if isinstance(input_name, str) else None
        allowed = spec[1] if spec is not None else anonymous
        if allowed and datatype not in allowed and datatype in ACCEPTS:
            said = (
                f"its spec types {input_name!r} as {spec[0]}"
                if spec is not None
                else "its spec's inputs are " + ", ".join(sorted({d for d, _ in named.values()}))
            )
            raise BadRequest(
                f"input {input_name!r}: model '{name}' does not accept datatype {datatype} "
                f"({said}); send one of {', '.join(sorted(allowed))}"
            )
