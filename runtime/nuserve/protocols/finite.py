"""JSON numbers must be finite: ``NaN``, ``Infinity`` and ``1e400`` are a 400 naming where.

Two decoders meet a request body. orjson (``nuserve serve``, and the core for raw bytes)
refuses a non-finite number; Python's ``json`` (Nuclio's wrapper decodes an
``application/json`` body with it before the handler runs) turns ``NaN`` into ``nan`` and
``1e400`` into ``inf``, so the model would see them and fail with a 500. Both paths end
here: ``find_non_finite`` walks a decoded body, and ``non_finite_error`` is the one
message, so the same body gets the same answer under Nuclio and ``nuserve serve``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from nuserve.errors import BadRequest

MAX_DEPTH = 200
"""Deeper bodies are not walked (Python's json refuses far less deep ones anyway)."""
_SPELLING = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _flat_numbers_finite(items: list[Any]) -> bool:
    """True when ``items`` are numbers whose sum is finite (so each one is): the fast path
    for long lists of floats. False when unsure (strings, nesting, an overflowing sum)."""
    try:
        return math.isfinite(sum(items))
    except (TypeError, OverflowError):
        return False


def find_non_finite(value: Any, depth: int = 0) -> tuple[str, float] | None:
    """``(position, number)`` of the first non-finite float in a decoded JSON value.

    The position is a path such as ``inputs[0].data[3]`` (``$`` for the body itself).
    """
    cls = value.__class__
    if cls is float:
        return None if math.isfinite(value) else ("", value)
    if depth > MAX_DEPTH:
        return None
    if cls is list:
        if _flat_numbers_finite(value):
            return None
        for i, item in enumerate(value):
            if item.__class__ in (float, list, dict):
                found = find_non_finite(item, depth + 1)
                if found is not None:
                    return f"[{i}]{_join(found[0])}", found[1]
        return None
    if cls is dict:
        for key, item in value.items():
            if item.__class__ in (float, list, dict):
                found = find_non_finite(item, depth + 1)
                if found is not None:
                    return f"{key}{_join(found[0])}", found[1]
    return None


def _join(rest: str) -> str:
    return rest if not rest or rest.startswith("[") else "." + rest


def non_finite_error(position: str, number: float) -> BadRequest:
    """The 400 for a non-finite number at ``position``."""
    spelled = _SPELLING.get(repr(number), repr(number))
    where = position or "$"
    return BadRequest(
        f"request body holds a non-finite number ({spelled}) at {where}: JSON numbers must be "
        "finite; send null or a finite value"
    )


def check_finite(value: Any) -> None:
    """Raise ``non_finite_error`` when a decoded body holds a non-finite number."""
    cls = value.__class__
    if cls is dict or cls is list or cls is float:
        found = find_non_finite(value)
        if found is not None:
            raise non_finite_error(*found)


def lenient_non_finite(data: bytes | bytearray | memoryview | str) -> BadRequest | None:
    """For a body orjson refused: the non-finite-number error if that is what is wrong.

    Python's ``json`` reads it as Nuclio's wrapper would; ``None`` when it fails too, or
    reads a body without a non-finite number (orjson's own complaint then stands).
    """
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    found = find_non_finite(value)
    return non_finite_error(*found) if found is not None else None
