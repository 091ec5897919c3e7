"""Weights of routes (ensemble votes, canary traffic): checked once, normalised to sum 1."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from nuserve.errors import ConfigError


def normalise_weights(
    weights: Mapping[str, Any] | None, routes: Iterable[str], owner: str, arg: str
) -> dict[str, float]:
    """Each route's share of the total, whatever the total (0.5, 1 and 3 give the same shares).

    ``None`` weighs every route equally. Every route needs a weight (0 for none); a weight for
    a route that does not exist, a negative one, or all of them zero is a ``ConfigError``.
    """
    keys = list(routes)
    if weights is None:
        return dict.fromkeys(keys, 1 / len(keys))
    if not isinstance(weights, Mapping):
        raise ConfigError(
            f"{owner}: {arg} must be a dict of model key → weight (got {type(weights).__name__})"
        )
    known = ", ".join(keys)
    unknown = sorted(str(k) for k in weights if k not in keys)
    if unknown:
        raise ConfigError(
            f"{owner}: {arg} names unknown model(s) {', '.join(map(repr, unknown))} "
            f"(models: {known})"
        )
    missing = [k for k in keys if k not in weights]
    if missing:
        raise ConfigError(
            f"{owner}: {arg} gives no weight to {', '.join(map(repr, missing))}; "
            "give every model a weight (0 for none)"
        )
    for key in keys:
        value = weights[key]
        if not is_number(value):
            raise ConfigError(f"{owner}: weight of {key!r} must be a number (got {value!r})")
        if value < 0:
            raise ConfigError(f"{owner}: weight of {key!r} must be 0 or more (got {value!r})")
    total = math.fsum(float(weights[k]) for k in keys)
    if total <= 0:
        raise ConfigError(f"{owner}: {arg} are all zero; at least one model needs a weight > 0")
    return {key: float(weights[key]) / total for key in keys}


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float (``True`` is not a number here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
