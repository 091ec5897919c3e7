"""Tests of the Open Inference Protocol (KServe v2) tensor codec."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nuserve.errors import BadRequest, ModelError
from nuserve.protocols.base import is_oip_request
from nuserve.protocols.oip import (
    DATATYPES,
    decode_inputs,
    decode_tensor,
    encode_outputs,
    encode_tensor,
)

NUMERIC = [name for name in DATATYPES if name != "BYTES"]


def tensor(data: Any, shape: Any = None, datatype: str = "FP32", name: str = "x", **extra: Any):
    return {
        "name": name,
        "shape": [len(data)] if shape is None else shape,
        "datatype": datatype,
        "data": data,
        **extra,
    }


def bad(t: Any, match: str) -> None:
    with pytest.raises(BadRequest, match=match):
        decode_tensor(t)


def test_datatypes_cover_the_protocol() -> None:
    assert list(DATATYPES) == [
        "BOOL",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "FP16",
        "FP32",
        "FP64",
        "BYTES",
    ]
    assert DATATYPES["BYTES"] == np.dtype(object)
    assert DATATYPES["FP16"] == np.dtype(np.float16)


# --- is_oip_request --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"inputs": [tensor([1.0])]},
        {"inputs": [{"name": "x", "datatype": "FP32"}]},
        {"inputs": [{"shape": [1]}]},
        {"inputs": [{"data": [1]}], "outputs": [{"name": "y"}]},
    ],
)
def test_is_oip_request_true_for_tensors(body: Any) -> None:
    assert is_oip_request(body) is True


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        [1, 2],
        "inputs",
        {},
        {"inputs": []},
        {"inputs": None},
        {"inputs": [[1, 2], [3, 4]]},  # MLRun rows
        {"inputs": [{"a": 1, "b": 2}]},  # MLRun dict rows
        {"inputs": {"name": "x", "data": [1]}},
        {"instances": [tensor([1.0])]},
    ],
)
def test_is_oip_request_false_for_rows_and_junk(body: Any) -> None:
    assert is_oip_request(body) is False


# --- decode: every datatype ----------------------------------------------------------------------

SAMPLES: dict[str, list[Any]] = {
    "BOOL": [True, False, True, True, False, False],
    "UINT8": [0, 1, 2, 127, 200, 255],
    "UINT16": [0, 1, 2, 3, 1000, 65535],
    "UINT32": [0, 1, 2, 3, 4, 2**32 - 1],
    "UINT64": [0, 1, 2, 3, 2**63, 2**64 - 1],
    "INT8": [-128, -1, 0, 1, 2, 127],
    "INT16": [-(2**15), -1, 0, 1, 2, 2**15 - 1],
    "INT32": [-(2**31), -1, 0, 1, 2, 2**31 - 1],
    "INT64": [-(2**63), -1, 0, 1, 2, 2**63 - 1],
    "FP16": [0.5, -1.0, 65504.0, 0.0, 1.5, -2.25],
    "FP32": [0.5, -1.0, 3.25, 0.0, 1e30, -2.25],
    "FP64": [0.1, -1.0, 1e300, 0.0, 5, -2.25],
}


@pytest.mark.parametrize("datatype", NUMERIC)
@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_decode_numeric_round_trip(datatype: str, nested: bool) -> None:
    values = SAMPLES[datatype]
    data = [values[:3], values[3:]] if nested else values
    arr = decode_tensor(tensor(data, [2, 3], datatype))
    assert arr.dtype == DATATYPES[datatype]
    assert arr.shape == (2, 3)
    assert arr.reshape(-1).tolist() == [DATATYPES[datatype].type(v).item() for v in values]
    encoded = encode_tensor("x", arr)
    assert encoded == {"name": "x", "shape": [2, 3], "datatype": datatype, "data": encoded["data"]}
    assert json.loads(json.dumps(encoded)) == encoded
    again = decode_tensor(encoded)
    assert again.dtype == arr.dtype
    np.testing.assert_array_equal(again, arr)


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_decode_bytes_round_trip(nested: bool) -> None:
    values = ["a", "héllo", "", "x y", "😀", "z"]
    data = [values[:3], values[3:]] if nested else values
    arr = decode_tensor(tensor(data, [2, 3], "BYTES"))
    assert arr.dtype == object
    assert arr.shape == (2, 3)
    assert arr.reshape(-1).tolist() == [v.encode() for v in values]
    encoded = encode_tensor("x", arr)
    assert encoded["datatype"] == "BYTES"
    assert encoded["data"] == values
    np.testing.assert_array_equal(decode_tensor(encoded), arr)


def test_decode_bytes_accepts_bytes_and_content_type_str() -> None:
    arr = decode_tensor(tensor([b"a", "b"], datatype="BYTES"))
    assert arr.tolist() == [b"a", b"b"]
    as_str = decode_tensor(
        tensor([b"a", "b"], datatype="BYTES", parameters={"content_type": "str"})
    )
    assert as_str.dtype == object
    assert as_str.tolist() == ["a", "b"]


def test_decode_bytes_rejects_non_strings() -> None:
    bad(tensor(["a", 1], datatype="BYTES"), r"tensor 'x': value 1 does not fit datatype BYTES")
    bad(
        tensor([b"\xff"], datatype="BYTES", parameters={"content_type": "str"}),
        r"tensor 'x': value b'\\xff' is not valid UTF-8",
    )


@pytest.mark.parametrize(
    ("data", "shape", "expected"),
    [
        (3.5, [], np.float32(3.5)),
        (3.5, [1], [3.5]),
        ([3.5], [], np.float32(3.5)),
        ([[1], [2]], [2, 1], [[1.0], [2.0]]),
        ([], [0], []),
        ([[], []], [2, 0], np.empty((2, 0))),
        ([[1, 2], [3]], [3], [1.0, 2.0, 3.0]),  # ragged nesting still flattens row-major
    ],
)
def test_decode_scalars_empty_and_nested(data: Any, shape: list[int], expected: Any) -> None:
    arr = decode_tensor(tensor(data, shape))
    assert arr.dtype == np.float32
    assert arr.shape == tuple(shape)
    np.testing.assert_array_equal(arr, expected)


def test_decode_scalar_bytes_and_empty_ints() -> None:
    assert decode_tensor(tensor("hi", [], "BYTES")).item() == b"hi"
    empty = decode_tensor(tensor([], [0, 3], "INT32"))
    assert empty.dtype == np.int32
    assert empty.shape == (0, 3)


def test_decode_integers_into_floats() -> None:
    arr = decode_tensor(tensor([1, 2, 2**70], datatype="FP64"))
    assert arr.tolist() == [1.0, 2.0, float(2**70)]


def test_decode_flat_float_data_needs_no_copy() -> None:
    arr = decode_tensor(tensor([0.5] * 1000, [10, 100], "FP64"))
    assert arr.dtype == np.float64
    assert arr.flags.c_contiguous


# --- decode: bad input ---------------------------------------------------------------------------


def test_shape_mismatch() -> None:
    bad(
        tensor([1, 2, 3, 4, 5], [2, 3]),
        r"^tensor 'x': data has 5 values but shape \[2, 3\] needs 6$",
    )
    bad(tensor([[1, 2], [3, 4]], [3]), r"data has 4 values but shape \[3\] needs 3")
    bad(tensor(["a"], [2], "BYTES"), r"data has 1 values but shape \[2\] needs 2")


def test_unknown_datatype() -> None:
    bad(
        tensor([1.0], datatype="FLOAT"),
        r"^tensor 'x': unknown datatype 'FLOAT' \(expected one of BOOL, UINT8, .*, BYTES\)$",
    )
    bad({"name": "x", "shape": [1], "data": [1]}, r"unknown datatype None")
    bad(tensor([1.0], datatype="fp32"), r"unknown datatype 'fp32'")


@pytest.mark.parametrize(
    ("datatype", "value", "message"),
    [
        (
            "UINT8",
            300,
            r"value 300 does not fit datatype UINT8 \(expected integers in \[0, 255\]\)",
        ),
        ("UINT8", -1, r"value -1 does not fit datatype UINT8"),
        ("UINT64", -1, r"value -1 does not fit datatype UINT64"),
        ("UINT64", 2**64, r"value 18446744073709551616 does not fit datatype UINT64"),
        ("INT8", 128, r"value 128 does not fit datatype INT8 \(expected integers in \[-128, 127\]"),
        ("INT64", 2**63, r"value 9223372036854775808 does not fit datatype INT64"),
        ("INT32", "5", r"value '5' does not fit datatype INT32"),
        ("INT32", "abc", r"value 'abc' does not fit datatype INT32"),
        ("INT32", 1.5, r"value 1.5 does not fit datatype INT32"),
        ("INT32", None, r"value None does not fit datatype INT32"),
        ("BOOL", 1, r"value 1 does not fit datatype BOOL \(expected true or false\)"),
        ("BOOL", "true", r"value 'true' does not fit datatype BOOL"),
        ("FP32", "1.0", r"value '1.0' does not fit datatype FP32 \(expected numbers\)"),
        ("FP32", "nan", r"value 'nan' does not fit datatype FP32"),
        ("FP64", None, r"value None does not fit datatype FP64"),
        ("FP16", 70000.0, r"value 70000.0 is out of range for FP16 \(max 65504.0\)"),
        ("FP32", 1e300, r"value 1e\+300 is out of range for FP32"),
        ("FP32", 10**400, r"out of range for FP32"),
    ],
)
def test_values_that_do_not_fit(datatype: str, value: Any, message: str) -> None:
    bad(tensor([0, value] if datatype != "BOOL" else [True, value], [2], datatype), message)


@pytest.mark.parametrize("datatype", [d for d in NUMERIC if d != "BOOL"])
@pytest.mark.parametrize(
    ("data", "shape", "value"),
    [
        ([True, 2], [2], "True"),
        ([2, False], [2], "False"),
        ([True, 2.5], [2], "True"),
        ([[1, 2], [3, False]], [2, 2], "False"),  # nested: numpy reads it in one go
        ([[1, 2], [True]], [3], "True"),  # ragged: flattened in Python first
        ([[[0, 1], [1, 0]], [[1, 1], [0, True]]], [2, 2, 2], "True"),
    ],
)
def test_booleans_among_numbers_are_refused(
    datatype: str, data: list[Any], shape: list[int], value: str
) -> None:
    """Found by the decoder fuzzer: numpy reads ``[true, 2]`` as ``[1, 2]``, so INT32 took
    it, while all-boolean data was refused."""
    bad(tensor(data, shape, datatype), rf"^tensor 'x': value {value} does not fit datatype")


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("datatype", ["INT64", "FP32"])
def test_a_boolean_in_a_large_array_is_found(datatype: str, dense: bool) -> None:
    """Large arrays take other ways: sparse 0s and 1s are looked up by index, dense ones in
    one pass; both in 3 dims."""
    values = [i % 2 if dense else 2 + i % 5 for i in range(1000)]
    values[7] = 1  # a number, not a boolean: in both ways
    for where in (0, 500, 999):
        data = list(values)
        data[where] = True
        rows = [[data[r * 100 + c * 10 : r * 100 + c * 10 + 10] for c in range(10)] for r in range(10)]
        bad(tensor(rows, [10, 10, 10], datatype), r"^tensor 'x': value True does not fit")
        bad(tensor(data, [1000], datatype), r"^tensor 'x': value True does not fit")
    assert decode_tensor(tensor(values, [1000], datatype)).tolist() == values


@pytest.mark.parametrize("datatype", [d for d in NUMERIC if d != "BOOL"])
def test_zeros_and_ones_are_numbers(datatype: str) -> None:
    """The boolean check looks closer only when there is a 0 or a 1; those stay numbers."""
    decoded = decode_tensor(tensor([[0, 1], [1, 0]], [2, 2], datatype))
    assert decoded.dtype == DATATYPES[datatype] and decoded.tolist() == [[0, 1], [1, 0]]
    floats = decode_tensor(tensor([0.0, 1.0, 0.5], datatype="FP64"))
    assert floats.tolist() == [0.0, 1.0, 0.5]


def test_bad_value_named_when_first_is_fine() -> None:
    bad(tensor([1, 2, "oops"], datatype="INT64"), r"^tensor 'x': value 'oops' does not fit")
    bad(tensor([[1, 2], [3, 500]], [2, 2], "UINT8"), r"value 500 does not fit datatype UINT8")


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (
            [1, 2],
            r"^input tensor must be an object with name, shape, datatype and data, got \[1, 2\]",
        ),
        (None, r"input tensor must be an object"),
        ({"shape": [1], "datatype": "FP32", "data": [1]}, r"^input tensor 'name' must be a string"),
        (tensor([1], name=5), r"input tensor 'name' must be a string, got 5"),
        (
            tensor([1], shape=1),
            r"^tensor 'x': shape must be a list of non-negative integers, got 1$",
        ),
        (
            {"name": "x", "datatype": "FP32", "data": [1]},
            r"^tensor 'x': shape must be a list of non-negative integers, got None",
        ),
        (
            tensor([1], shape=[2, -1]),
            r"shape must be a list of non-negative integers, got \[2, -1\]",
        ),
        (tensor([1], shape=[1.0]), r"shape must be a list of non-negative integers, got \[1.0\]"),
        (tensor([1], shape=[True]), r"shape must be a list of non-negative integers"),
        (tensor([1], shape=(1,)), r"shape must be a list"),
        (tensor({"a": 1}, shape=[1]), r"^tensor 'x': data must be a list, got \{'a': 1\}$"),
        (tensor(None, shape=[1]), r"data must be a list, got None"),
        (tensor(1.0, shape=[2]), r"data must be a list, got 1.0"),
        (tensor(1.0, shape=[1, 1]), r"data must be a list, got 1.0"),
        ({"name": "x", "shape": [1], "datatype": "FP32"}, r"^tensor 'x': missing 'data'"),
        (tensor([1], parameters=[]), r"tensor 'x': parameters must be an object, got \[\]"),
    ],
)
def test_bad_fields(t: Any, message: str) -> None:
    bad(t, message)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(BadRequest) as info:
        decode_tensor(tensor(["y" * 1000], [1], "INT32"))
    assert len(info.value.message) < 200
    assert info.value.status == 400


# --- decode_inputs -------------------------------------------------------------------------------


def test_decode_inputs_single_and_many() -> None:
    one = decode_inputs({"inputs": [tensor([1.0, 2.0])]})
    assert isinstance(one, np.ndarray)
    assert one.tolist() == [1.0, 2.0]
    many = decode_inputs(
        {
            "inputs": [
                tensor([1, 2], name="a", datatype="INT64"),
                tensor(["s"], name="b", datatype="BYTES"),
            ]
        }
    )
    assert isinstance(many, dict)
    assert list(many) == ["a", "b"]
    assert many["a"].dtype == np.int64
    assert many["b"].tolist() == [b"s"]


def test_decode_inputs_errors() -> None:
    with pytest.raises(BadRequest, match=r"^duplicate input tensor name 'a'"):
        decode_inputs({"inputs": [tensor([1.0], name="a"), tensor([2.0], name="a")]})
    for inputs in (None, [], {"name": "x"}):
        with pytest.raises(BadRequest, match=r"'inputs' must be a non-empty list of tensors"):
            decode_inputs({"inputs": inputs})
    with pytest.raises(BadRequest, match=r"tensor 'b': unknown datatype"):
        decode_inputs({"inputs": [tensor([1.0], name="a"), tensor([1], name="b", datatype="X")]})


# --- encode --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "datatype", "shape", "data"),
    [
        ([1, 2, 3], "INT64", [3], [1, 2, 3]),
        ([[1.5, 2.0]], "FP64", [1, 2], [1.5, 2.0]),
        ([True, False], "BOOL", [2], [True, False]),
        (7, "INT64", [], [7]),
        (2.5, "FP64", [], [2.5]),
        ("hi", "BYTES", [], ["hi"]),
        (["a", b"b"], "BYTES", [2], ["a", "b"]),
        ([b"\xff"], "BYTES", [1], ["\\xff"]),
        (np.float32(1.5), "FP32", [], [1.5]),
        (np.arange(6, dtype=np.int32).reshape(2, 3), "INT32", [2, 3], [0, 1, 2, 3, 4, 5]),
        (np.array([0.5], dtype=np.float16), "FP16", [1], [0.5]),
        (np.array([[b"x"], [b"y"]]), "BYTES", [2, 1], ["x", "y"]),
        (np.array(["a", "bc"]), "BYTES", [2], ["a", "bc"]),
        (np.array([1, 2.5], dtype=object), "FP64", [2], [1.0, 2.5]),
        (np.array([], dtype=np.uint16), "UINT16", [0], []),
    ],
)
def test_encode_tensor(value: Any, datatype: str, shape: list[int], data: list[Any]) -> None:
    encoded = encode_tensor("out", value)
    assert encoded == {"name": "out", "shape": shape, "datatype": datatype, "data": data}
    assert all(type(v) in (int, float, bool, str) for v in encoded["data"])
    json.dumps(encoded)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.array([1 + 2j]), r"output 'out': cannot encode dtype complex128"),
        (np.array([{"a": 1}], dtype=object), r"output 'out': cannot encode \{'a': 1\} as BYTES"),
        ([[1, 2], [3]], r"output 'out': cannot encode"),
        (None, r"output 'out': cannot encode None"),
    ],
)
def test_encode_tensor_rejects_unencodable(value: Any, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        encode_tensor("out", value)


# --- encode_outputs ------------------------------------------------------------------------------


def test_encode_outputs_single_dict_and_passthrough() -> None:
    [single] = encode_outputs(np.array([1.0]))
    assert single["name"] == "output-0"
    assert single["datatype"] == "FP64"
    tensors = encode_outputs({"a": [1], "b": ["s"]})
    assert [(t["name"], t["datatype"]) for t in tensors] == [("a", "INT64"), ("b", "BYTES")]
    ready = [{"name": "y", "shape": [1], "datatype": "FP32", "data": [1.0]}]
    assert encode_outputs(ready) is ready
    rows = [{"a": 1}, {"a": 2}]  # plain dicts are model output, not tensors to pass through
    with pytest.raises(ModelError, match=r"output 'output-0': cannot encode \{'a': 1\}"):
        encode_outputs(rows)


def test_requested_outputs_honoured_in_order() -> None:
    outputs = {"a": [1], "b": [2.0], "c": [True]}
    tensors = encode_outputs(outputs, [{"name": "c"}, {"name": "a"}])
    assert [t["name"] for t in tensors] == ["c", "a"]
    assert encode_outputs(outputs, []) == encode_outputs(outputs)
    assert [t["name"] for t in encode_outputs(outputs, None)] == ["a", "b", "c"]
    ready = encode_outputs(outputs)
    assert encode_outputs(ready, [{"name": "b", "parameters": {}}]) == [ready[1]]
    [only] = encode_outputs([1, 2], [{"name": "output-0"}])
    assert only["data"] == [1, 2]


def test_requested_outputs_only_encodes_what_is_asked() -> None:
    tensors = encode_outputs({"good": [1], "bad": np.array([1j])}, [{"name": "good"}])
    assert [t["name"] for t in tensors] == ["good"]


def test_requested_output_unknown() -> None:
    with pytest.raises(
        BadRequest,
        match=r"^requested output 'z' is not produced by the model \(available: 'a', 'b'\)$",
    ):
        encode_outputs({"a": [1], "b": [2]}, [{"name": "z"}])
    with pytest.raises(BadRequest, match=r"requested output 'z' .*available: 'output-0'"):
        encode_outputs([1], [{"name": "z"}])


@pytest.mark.parametrize(
    "requested", [{"name": "a"}, "a", [{"name": 1}], [{}], ["a"], [{"name": "a"}, None]]
)
def test_requested_outputs_malformed(requested: Any) -> None:
    with pytest.raises(BadRequest, match=r"^'outputs' must be a list of objects with a 'name'"):
        encode_outputs({"a": [1]}, requested)


def test_requested_output_twice() -> None:
    with pytest.raises(BadRequest, match=r"output 'a' is requested more than once"):
        encode_outputs({"a": [1]}, [{"name": "a"}, {"name": "a"}])


# --- properties ----------------------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
numeric_arrays = st.sampled_from([DATATYPES[n] for n in NUMERIC]).flatmap(
    lambda dtype: hnp.arrays(dtype, shapes)
)


@settings(deadline=None, max_examples=300)
@given(numeric_arrays)
def test_numeric_round_trip_property(a: np.ndarray) -> None:
    encoded = encode_tensor("x", a)
    decoded = decode_tensor(json.loads(json.dumps(encoded)))
    assert decoded.dtype == a.dtype
    assert decoded.shape == a.shape
    np.testing.assert_array_equal(decoded, a)


@settings(deadline=None)
@given(shapes.flatmap(lambda s: hnp.arrays(object, s, elements=st.text().map(str.encode))))
def test_bytes_round_trip_property(a: np.ndarray) -> None:
    decoded = decode_tensor(json.loads(json.dumps(encode_tensor("x", a))))
    assert decoded.dtype == object
    assert decoded.shape == a.shape
    assert decoded.tolist() == a.tolist()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=2), children)
    ),
    max_leaves=12,
)


@settings(deadline=None, max_examples=500)
@given(
    st.sampled_from(list(DATATYPES)),
    st.lists(st.integers(0, 4), max_size=3),
    json_values,
    st.none() | st.dictionaries(st.just("content_type"), st.sampled_from(["str", "x"])),
)
def test_decode_never_fails_with_anything_but_bad_request(
    datatype: str, shape: list[int], data: Any, parameters: Any
) -> None:
    t = {"name": "x", "shape": shape, "datatype": datatype, "data": data}
    if parameters is not None:
        t["parameters"] = parameters
    try:
        arr = decode_tensor(t)
    except BadRequest as err:
        assert err.message.startswith("tensor 'x': ")
    else:
        assert arr.shape == tuple(shape)
        assert arr.dtype == DATATYPES[datatype]
