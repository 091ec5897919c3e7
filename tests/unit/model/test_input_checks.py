"""check_rows: inputs that a model with a feature spec would fail on become 400s naming why."""

from __future__ import annotations

import numpy as np
import pytest

from nuserve.errors import BadRequest
from nuserve.model.input_checks import bounds_of, check_rows


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


FLOAT32 = bounds_of(["float", "float"])


@pytest.mark.parametrize(
    ("inputs", "bad"),
    [
        ([[1, 1e308]], "row 0 has 1e+308"),
        ([[1, 2], [-3.5e38, 0]], "row 1 has -3.5e+38"),
        (np.array([[1.0, np.inf]]), "the tensor has inf"),
        (np.array([[np.nan, 1.0]]), "the tensor has nan"),
        (np.array([[1.0, 1e300]]), "the tensor has 1e+300"),
    ],
)
def test_values_out_of_the_value_types_range_are_refused(inputs, bad):
    with pytest.raises(BadRequest) as refused:
        check_rows("m", inputs, 2, numeric=True, bounds=FLOAT32)
    assert refused.value.message == (
        "model 'm' expects finite values from -3.40282e+38 to 3.40282e+38, as its model "
        f"spec's value types allow ({bad}); scale or clip the input"
    )


def test_a_float_tensor_without_bounds_still_refuses_non_finite_values():
    with pytest.raises(BadRequest, match=r"\(the tensor has inf\)"):
        check_rows("m", np.array([[1.0, np.inf]]), 2, numeric=True)
    check_rows("m", [[1e308, 1]], 2, numeric=True)  # no bounds: any JSON number


def test_bounds_are_the_narrowest_value_type_and_none_when_one_has_no_range():
    assert bounds_of(["int8", "float"]) == (-128, 127)
    assert bounds_of(["double"]) == (
        float(np.finfo(np.float64).min),
        float(np.finfo(np.float64).max),
    )
    assert bounds_of(["float", "str"]) is None
    assert bounds_of([]) is None


class Row(list):  # type: ignore[type-arg]
    """A row that is a list subclass (built by user code, not decoded JSON)."""


def test_a_list_subclass_is_a_row_and_is_still_checked():
    check_rows("m", [Row([1, 2])], 2, numeric=True, bounds=(-10, 10))
    with pytest.raises(BadRequest, match=r"row 1 has 1"):
        check_rows("m", [Row([1, 2]), Row([3])], 2, numeric=True)
    with pytest.raises(BadRequest, match=r"row 0 has 99"):
        check_rows("m", [Row([1, 99])], 2, numeric=True, bounds=(-10, 10))


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("nan"), "nan"), (float("inf"), "inf"), (10**400, "1000"), (3.5e38, "3.5e+38")],
)
def test_a_value_past_the_bounds_is_named_in_a_long_request(value, shown):
    """1,000 rows take the whole-list passes; the one bad value is still found and named."""
    rows = [[5.1, 3.5]] * 999 + [[1.0, value]]
    with pytest.raises(BadRequest) as refused:
        check_rows("m", rows, 2, numeric=True, bounds=bounds_of(["float", "float"]))
    assert "row 999 has " + shown in refused.value.message


def test_a_bool_or_a_short_row_deep_in_a_long_request_is_named():
    rows = [[5.1, 3.5]] * 1000
    with pytest.raises(BadRequest, match=r"row 700 has True"):
        check_rows("m", [*rows[:700], [1.0, True], *rows[700:]], 2, numeric=True)
    with pytest.raises(BadRequest, match=r"row 500 has 3"):
        check_rows("m", [*rows[:500], [1.0, 2.0, 3.0], *rows[500:]], 2, numeric=True)
    check_rows("m", rows, 2, numeric=True, bounds=bounds_of(["float", "float"]))
