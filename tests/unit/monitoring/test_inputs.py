"""Input rows and prediction values from the body shapes wire.md allows."""

from __future__ import annotations

import numpy as np

from nuserve.monitoring.inputs import feature_rows, prediction_values

NAMES = ["a", "b"]


def rows(inputs) -> list:
    found = feature_rows(inputs, NAMES)
    return None if found is None else np.where(np.isnan(found), -1, found).tolist()


def test_mlrun_rows_flat_row_dict_rows() -> None:
    assert rows([[1, 2], [3, 4]]) == [[1, 2], [3, 4]]
    assert rows([1, 2]) == [[1, 2]]
    assert rows([[1, 2, 9]]) == [[1, 2]]  # extra columns are not features
    assert rows([[1]]) == [[1, -1]]
    assert rows([{"b": 2, "a": 1}, {"a": "x"}]) == [[1, 2], [-1, -1]]
    assert rows([[1, "x"], [2]]) == [[1, -1], [2, -1]]  # ragged and mixed


def test_oip_tensors() -> None:
    one = [{"name": "in", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]
    assert rows(one) == [[1, 2], [3, 4]]
    split = [
        {"name": "b", "shape": [2], "datatype": "FP32", "data": [5, 6]},
        {"name": "a", "shape": [2], "datatype": "FP32", "data": [7, 8]},
    ]
    assert rows(split) == [[7, 5], [8, 6]]


def test_unknown_shapes_give_none() -> None:
    assert feature_rows(None, NAMES) is None
    assert feature_rows([], NAMES) is None
    assert feature_rows({"x": 1}, NAMES) is None
    assert feature_rows([[1, 2]], []) is None


def test_prediction_values() -> None:
    assert prediction_values([0, 1, 1]) == [0, 1, 1]
    assert prediction_values([[0.1, 0.9], [0.8, 0.2]]) == [1, 0]
    assert prediction_values([0.12345]) == [0.123]
    assert prediction_values("yes") == ["yes"]
    oip = [{"name": "p", "shape": [2, 3], "datatype": "FP32", "data": [0, 1, 0, 1, 0, 0]}]
    assert prediction_values(oip) == [1, 0]
    assert prediction_values([{"name": "p", "shape": [2], "data": [3, 4]}]) == [3.0, 4.0]
    assert prediction_values([{"k": object()}]) == ["other"]
