"""feature_stats in MLRun's layout, and references read from specs and JSON files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nuserve.errors import ConfigError
from nuserve.model.artifacts import Feature, ModelSpec
from nuserve.monitoring import feature_stats, load_reference
from tests.unit.monitoring.records import NAMES


def test_layout_matches_mlrun(iris) -> None:
    stats = feature_stats(iris, names=NAMES)
    assert list(stats) == NAMES
    petal = stats["petal_length"]
    assert set(petal) == {"count", "mean", "std", "min", "max", "hist"}
    assert petal["count"] == 150
    assert petal["mean"] == pytest.approx(3.758, abs=1e-3)
    assert petal["std"] == pytest.approx(1.7653, abs=1e-4)  # ddof=1, as pandas' describe
    assert (petal["min"], petal["max"]) == (1.0, 6.9)
    counts, edges = petal["hist"]
    assert len(counts) == 20 and len(edges) == 21 and sum(counts) == 150
    assert edges[0] == 1.0 and edges[-1] == pytest.approx(6.9)
    json.dumps(stats)  # plain JSON types only


def test_bins_default_names_one_column_and_nan() -> None:
    stats = feature_stats(np.array([1.0, 2.0, np.nan, 4.0]), bins=3)
    assert list(stats) == ["f0"]
    assert stats["f0"]["count"] == 3
    assert stats["f0"]["hist"][0] == [1, 1, 1]
    assert feature_stats([[1, 2], [3, 4]])["f1"]["max"] == 4.0
    empty = feature_stats(np.array([[np.nan]]))["f0"]
    assert empty["count"] == 0 and empty["hist"] == [[], []]


def test_bad_input_messages() -> None:
    with pytest.raises(ConfigError, match="got 1 names for 2 columns"):
        feature_stats([[1, 2]], names=["a"])
    with pytest.raises(ConfigError, match="bins must be an int >= 1"):
        feature_stats([[1]], bins=0)
    with pytest.raises(ConfigError, match="needs numeric rows"):
        feature_stats([["a", "b"]])


def test_pandas_dataframe_numeric_columns() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1.0, 2.0, None], "label": ["a", "b", "c"], "y": [3, 4, 5]})
    stats = feature_stats(frame, bins=2)
    assert list(stats) == ["x", "y"]
    assert stats["x"]["count"] == 2


def test_reference_from_model_dir_uses_inputs_order(tmp_path, iris) -> None:
    stats = feature_stats(iris, names=NAMES)
    reversed_inputs = [Feature(n, "float") for n in reversed(NAMES)]
    ModelSpec(model_file="m.pkl", inputs=reversed_inputs, feature_stats=stats).save(tmp_path)
    ref = load_reference(tmp_path)
    assert ref.names == list(reversed(NAMES))
    assert ref.features[0].counts == tuple(stats["petal_width"]["hist"][0])
    assert ref.source.endswith("model_spec.yaml")


def test_reference_from_json_files(tmp_path, iris) -> None:
    stats = feature_stats(iris, names=NAMES)
    alone = tmp_path / "stats.json"
    alone.write_text(json.dumps(stats))
    assert load_reference(alone).names == NAMES
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"kind": "model", "spec": {"feature_stats": stats}}))
    assert load_reference(f"file://{spec}").names == NAMES


def test_reference_errors(tmp_path) -> None:
    ModelSpec(model_file="m.pkl").save(tmp_path)
    with pytest.raises(ConfigError, match="has no feature_stats; record them when training"):
        load_reference(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"a": {"hist": [[1, 2], [0, 1]]}}))
    with pytest.raises(ConfigError, match=r"needs n counts and n \+ 1 increasing edges"):
        load_reference(bad)
    with pytest.raises(ConfigError, match="is a directory without model_spec.yaml"):
        load_reference(tmp_path / "..")
    with pytest.raises(ConfigError, match="cannot read reference"):
        load_reference(tmp_path / "missing.json")
