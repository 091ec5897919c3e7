"""check_rows: inputs that a model with a feature spec would fail on become 400s naming why."""

from __future__ import annotations

import numpy as np
import pytest

from nuserve.errors import BadRequest
from nuserve.model.input_checks import check_rows


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([], "model 'm' expects a list of rows of 2 features (got no rows)"),
        ({}, "model 'm' expects a list of rows of 2 features (got dict)"),
        ("ab", "model 'm' expects a list of rows of 2 features (got str)"),
        ([[1, 2], [3]], "model 'm' expects rows of 2 features (row 1 has 1)"),
        ([[1, 2], 3], "model 'm' expects rows of 2 features (row 1 has int)"),
        ([[1, {}]], "model 'm' expects numbers (row 0 has {})"),
        ([[1, True]], "model 'm' expects numbers (row 0 has True)"),
        ([[1, "2"]], "model 'm' expects numbers (row 0 has '2')"),
        (
            np.zeros((1, 3)),
            "model 'm' expects a tensor of shape [rows, 2] of numbers (got shape [1, 3] of float64)",
        ),
        (
            np.zeros((0, 2)),
            "model 'm' expects a tensor of shape [rows, 2] of numbers (got shape [0, 2] of float64)",
        ),
        (
            np.array([["a", "b"]]),
            "model 'm' expects a tensor of shape [rows, 2] of numbers (got shape [1, 2] of <U1)",
        ),
    ],
)
def test_inputs_a_numeric_model_would_fail_on_are_refused(inputs, message):
    with pytest.raises(BadRequest) as refused:
        check_rows("m", inputs, 2, numeric=True)
    assert refused.value.message == message


@pytest.mark.parametrize(
    "inputs",
    [
        [[1, 2.5]],
        [[1, 2], [3, 4]],
        np.ones((3, 2), dtype=np.int32),
        {"a": np.ones(2), "b": np.ones(2)},  # named tensors: the model combines them
    ],
)
def test_rows_of_the_spec_width_pass(inputs):
    check_rows("m", inputs, 2, numeric=True)


def test_text_features_take_any_values():
    check_rows("m", [["a", None]], 2, numeric=False)
    check_rows("m", np.array([["a", "b"]]), 2, numeric=False)
