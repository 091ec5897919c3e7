"""Reference statistics of training data, in MLRun's ``feature_stats`` layout.

    {"petal_length": {"count": 150, "mean": 3.75, "std": 1.76, "min": 1.0, "max": 6.9,
                      "hist": [[counts...], [edges...]]}}

``hist`` holds ``bins`` counts and ``bins + 1`` edges, as ``numpy.histogram`` returns them;
the monitor bins live inputs on those edges. ``std`` is the sample standard deviation
(``ddof=1``), what pandas' ``describe`` (MLRun's source) reports.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from nuserve.errors import ConfigError


def feature_stats(
    data: Any, bins: int = 20, names: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Per-feature statistics of ``data`` (rows by features) for ``ModelSpec.feature_stats``.

    ``data`` may be a 2-D numpy array (or nested lists), a 1-D array (one feature), or a
    pandas DataFrame (its numeric columns; pandas is not imported here, only recognised).
    ``names`` name the columns (default: the DataFrame's columns, else ``f0``, ``f1``...).
    Missing values (NaN) are left out of every statistic. Columns that are not numeric
    are skipped.
    """
    if type(bins) is not int or bins < 1:
        raise ConfigError(f"feature_stats bins must be an int >= 1 (got {bins!r})")
    columns = _columns(data, names)
    return {name: _one(values, bins) for name, values in columns.items()}


def _columns(data: Any, names: Sequence[str] | None) -> dict[str, np.ndarray[Any, Any]]:
    pandas = sys.modules.get("pandas")  # a DataFrame means pandas is already imported
    if pandas is not None and isinstance(data, pandas.DataFrame):
        numeric = data.select_dtypes(include="number").columns
        given = list(names) if names is not None else [str(c) for c in numeric]
        if len(given) != len(numeric):
            raise ConfigError(
                f"feature_stats got {len(given)} names for {len(numeric)} numeric columns"
            )
        return {
            name: data[col].to_numpy(dtype=float, na_value=np.nan)
            for name, col in zip(given, numeric, strict=True)
        }
    try:
        array = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"feature_stats needs numeric rows (a 2-D array, nested lists or a DataFrame): {exc}"
        ) from exc
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ConfigError(
            f"feature_stats needs 2-D data (rows by features), got shape {array.shape}"
        )
    width = array.shape[1]
    given = list(names) if names is not None else [f"f{i}" for i in range(width)]
    if len(given) != width:
        raise ConfigError(f"feature_stats got {len(given)} names for {width} columns")
    return {name: array[:, i] for i, name in enumerate(given)}


def _one(values: np.ndarray[Any, Any], bins: int) -> dict[str, Any]:
    values = values[~np.isnan(values)]
    count = int(values.size)
    if count == 0:
        return {"count": 0, "mean": None, "std": None, "min": None, "max": None, "hist": [[], []]}
    counts, edges = np.histogram(values, bins=bins)
    return {
        "count": count,
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if count > 1 else 0.0,
        "min": float(values.min()),
        "max": float(values.max()),
        "hist": [[int(c) for c in counts], [float(e) for e in edges]],
    }
