"""Checks of a request's inputs against the model spec's features, before ``predict``.

A model whose spec lists its features (``model_spec.yaml``) can be sent empty, ragged,
mistyped or mis-shaped inputs; its own code (sklearn, say) would fail on them with a 500.
``check_rows`` turns each of those into a 400 naming what was expected.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import BadRequest

NUMERIC_TYPES = ("float", "double", "int", "uint", "long")
"""Model spec value types (MLRun's, by prefix) whose rows must hold numbers."""


def check_rows(name: str, inputs: Any, width: int, numeric: bool) -> None:
    """At least one row of ``width`` features (numbers when the spec says so): the model's
    own code would otherwise fail on the request with a 500. An OIP tensor, decoded to an
    array, must be ``[rows, width]``."""
    shape = getattr(inputs, "shape", None)
    if shape is not None:
        kind = inputs.dtype.kind
        if len(shape) != 2 or shape[1] != width or not shape[0] or (numeric and kind not in "biuf"):
            numbers = " of numbers" if numeric else ""
            raise BadRequest(
                f"model '{name}' expects a tensor of shape [rows, {width}]{numbers} "
                f"(got shape {list(shape)} of {inputs.dtype})"
            )
        return
    if type(inputs) is dict and inputs and all(hasattr(v, "shape") for v in inputs.values()):
        return  # several named OIP tensors: the model combines them
    if type(inputs) is not list or not inputs:
        got = "no rows" if type(inputs) is list else type(inputs).__name__
        raise BadRequest(f"model '{name}' expects a list of rows of {width} features (got {got})")
    for i, row in enumerate(inputs):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise BadRequest(
                f"model '{name}' expects rows of {width} features (row {i} has {size})"
            )
        if numeric and not all(type(v) is float or type(v) is int for v in row):
            bad = next(v for v in row if type(v) is not float and type(v) is not int)
            raise BadRequest(f"model '{name}' expects numbers (row {i} has {bad!r})")
