"""Fixtures of the monitoring tests: a store on each backend, iris data and its reference."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from nuserve.monitoring import Reference, Store, feature_stats, open_store
from tests.unit.monitoring.records import NAMES


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Store]:
    """The same store tests on SQLite and on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path}/monitor.db"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def iris() -> np.ndarray:
    from sklearn.datasets import load_iris

    return np.asarray(load_iris().data, dtype=float)


@pytest.fixture(scope="session")
def reference(iris: np.ndarray) -> Reference:
    return Reference.from_stats(feature_stats(iris, names=NAMES), source="iris")
