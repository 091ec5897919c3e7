"""Fuzzing every body decoder: whatever a client sends, the answer is a request or a clean 4xx.

Each decoder of ``nuserve.protocols`` (JSON, body, MLRun rows, KServe v1, OIP tensors and the
OIP ``outputs`` a request may name) is fed raw bytes, arbitrary JSON values and near-valid
bodies: a valid one with one field broken (wrong datatype, shape and data that disagree,
negative or huge dims, mixed types, deep nesting, parameters of the wrong type). The property
is the error contract: the result is decoded, or the error is one of ours with a 4xx status.
Any other exception (a ``RecursionError``, numpy's ``ValueError``) is a 500 in production.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nuserve.errors import BadRequest, NuserveError
from nuserve.protocols import KSERVE_V1, OIP, ROWS, decode_body, decode_json, detect
from nuserve.protocols.base import is_oip_request
from nuserve.protocols.oip import (
    BF16_BITS,
    DATATYPES,
    decode_inputs,
    decode_tensor,
    encode_outputs,
)
from tests.fuzzing import (
    INT64,
    decoded_or_refused,
    hostile_bytes,
    json_objects,
    json_scalars,
    json_values,
    within,
)

FAST = settings(max_examples=150, deadline=None)
"""``deadline=None``: two shared cores make timings noisy; ``within`` catches real hangs."""

# --- raw bodies -----------------------------------------------------------------------------------


@FAST
@given(hostile_bytes)
def test_decode_json_parses_or_refuses_any_bytes(raw: bytes) -> None:
    decoded_or_refused(lambda: decode_json(raw))


@FAST
@given(hostile_bytes | hostile_bytes.map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_decode_body_any_bytes_or_text_gives_a_dict_or_a_400(raw: bytes | str) -> None:
    body = decoded_or_refused(lambda: decode_body(raw))
    if not isinstance(body, NuserveError):
        assert type(body) is dict
    decoded_or_refused(lambda: decode_body(raw, need_dict=False))


@FAST
@given(json_values | st.builds(bytearray, st.binary(max_size=16)) | st.just(memoryview(b"{}")))
def test_decode_body_any_python_value(value: Any) -> None:
    body = decoded_or_refused(lambda: decode_body(value))
    if not isinstance(body, NuserveError):
        assert type(body) is dict


def test_decode_body_takes_an_array_without_comparing_it_elementwise() -> None:
    # found while fuzzing: ``raw in (b"", "")`` compared an array elementwise (a ValueError)
    with pytest.raises(BadRequest, match=r"^request body must be a JSON object \(got ndarray\)"):
        decode_body(np.zeros(3))


# --- every protocol on any JSON object ------------------------------------------------------------


@FAST
@given(json_objects)
def test_every_protocol_decodes_any_object_or_refuses_it(body: dict[str, Any]) -> None:
    for protocol in (ROWS, KSERVE_V1, OIP, detect(body)):
        decoded_or_refused(lambda p=protocol: p.decode(dict(body)))  # type: ignore[misc]


@FAST
@given(st.dictionaries(st.sampled_from(["inputs", "instances", "outputs", "id"]), json_values))
def test_protocol_fields_of_any_type(body: dict[str, Any]) -> None:
    is_oip_request(body)
    for protocol in (KSERVE_V1, OIP, detect(body)):
        decoded_or_refused(lambda p=protocol: p.decode(dict(body)))  # type: ignore[misc]


# --- near-valid OIP tensors -----------------------------------------------------------------------

NUMERIC = [name for name in DATATYPES if name != "BYTES"]
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
arrays = st.one_of(
    st.sampled_from([DATATYPES[n] for n in NUMERIC]).flatmap(lambda d: hnp.arrays(d, shapes)),
    shapes.flatmap(lambda s: hnp.arrays(object, s, elements=st.text(max_size=3))),
)


def as_tensor(name: str, array: np.ndarray) -> dict[str, Any]:
    """A valid OIP tensor (the request a well-behaved client sends)."""
    datatype = (
        "BYTES"
        if array.dtype == object
        else NUMERIC[[DATATYPES[n] for n in NUMERIC].index(array.dtype)]
    )
    data = array.tolist() if array.ndim else [array.item()]
    if array.dtype.kind == "f":  # JSON has no NaN or infinity: send what a client could
        data = np.nan_to_num(array, nan=0.0, posinf=1.0, neginf=-1.0).tolist()
        data = data if array.ndim else [data]
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


valid_tensors = st.builds(as_tensor, st.text(max_size=4), arrays)

junk = json_scalars | st.lists(json_scalars, max_size=3) | st.just({"a": [1]})
datatypes = st.sampled_from([*DATATYPES, "FP8", "BF16", "int32", "", "bytes", "FP32 "]) | junk
dims = st.integers(-3, 4) | INT64 | st.sampled_from([2**63, 2**64, 10**30, 1.0, True, "2", None])
bad_shapes = st.lists(dims, max_size=4) | st.lists(st.integers(0, 3), min_size=33, max_size=70)
datas = st.one_of(
    junk,
    st.lists(json_values, max_size=6),
    st.recursive(json_scalars, lambda c: st.lists(c, max_size=3), max_leaves=12),
    st.integers(1, 1500).map(lambda n: _nested([1.5], n)),
    st.integers(1, 1500).map(lambda n: _nested(["a"], n)),
    st.lists(st.binary(max_size=3), max_size=4),
)
parameters = junk | st.dictionaries(st.sampled_from(["content_type", "x"]), junk, max_size=2)
FIELDS = ["name", "shape", "datatype", "data", "parameters"]


def _nested(value: list[Any], depth: int) -> list[Any]:
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def mutated_tensors(draw: st.DrawFn) -> Any:
    """A valid tensor with one or two fields broken, dropped, or changed just enough to
    disagree with the others (a dim more or less, another datatype, a value more or less)."""
    tensor = draw(valid_tensors)
    for _ in range(draw(st.integers(1, 2))):
        field = draw(st.sampled_from(FIELDS))
        how = draw(st.sampled_from(["junk", "drop", "tweak"]))
        if how == "drop":
            tensor.pop(field, None)
        elif how == "junk" or field not in tensor or field in ("name", "parameters"):
            strategy = {
                "name": junk,
                "shape": bad_shapes,
                "datatype": datatypes,
                "data": datas,
                "parameters": parameters,
            }[field]
            tensor[field] = draw(strategy)
        elif field == "shape" and isinstance(tensor["shape"], list):
            shape = list(tensor["shape"])  # a count that no longer matches, or a bad dim
            if draw(st.booleans()) or not shape:
                shape.append(draw(dims))
            else:
                shape.pop()
            tensor["shape"] = shape
        elif field == "datatype":
            tensor["datatype"] = draw(st.sampled_from(list(DATATYPES)))
        elif field == "data" and isinstance(tensor["data"], list):
            data = tensor["data"]
            tensor["data"] = draw(
                st.sampled_from(
                    [
                        [*data, draw(json_scalars)],
                        data[1:],
                        [data],
                        [data, data],
                        [draw(json_values), *data[1:]],
                    ]
                )
            )
    return tensor


tensor_lists = st.lists(mutated_tensors() | valid_tensors | junk, min_size=1, max_size=3)


@settings(max_examples=400, deadline=None)
@given(mutated_tensors())
@example({"name": "", "shape": [], "datatype": "BF16", "data": [0]})  # found by CI's draw
def test_near_valid_tensor_decodes_to_its_shape_and_dtype_or_a_400(tensor: dict[str, Any]) -> None:
    array = decoded_or_refused(lambda: decode_tensor(tensor))
    if isinstance(array, NuserveError):
        return
    assert array.shape == tuple(tensor["shape"])
    assert array.dtype == {**DATATYPES, "BF16": BF16_BITS}[tensor["datatype"]]  # BF16: raw bits


@settings(max_examples=200, deadline=None)
@given(
    tensor_lists,
    st.none() | junk | st.lists(st.fixed_dictionaries({"name": st.text(max_size=2)}), max_size=3),
    st.none() | junk,
)
def test_near_valid_oip_body_decodes_and_honours_outputs_or_refuses(
    tensors: list[Any], outputs: Any, params: Any
) -> None:
    body: dict[str, Any] = {"inputs": tensors, "id": "x"}
    if outputs is not None:
        body["outputs"] = outputs
    if params is not None:
        body["parameters"] = params
    request = decoded_or_refused(lambda: OIP.decode(body))
    if isinstance(request, NuserveError):
        return
    inputs = request["inputs"]
    if len(tensors) == 1:
        assert isinstance(inputs, np.ndarray)
    else:
        assert sorted(inputs) == sorted(t["name"] for t in tensors)
    # the client's ``outputs`` steer the encoding: it too must only ever answer 4xx
    encoded = decoded_or_refused(
        lambda: OIP.encode({"id": "x", "model_name": "m", "outputs": inputs}, request)
    )
    if not isinstance(encoded, NuserveError):
        assert all(t["datatype"] in DATATYPES for t in encoded["outputs"])


@FAST
@given(st.lists(valid_tensors, min_size=2, max_size=3))
def test_duplicate_names_are_refused(tensors: list[dict[str, Any]]) -> None:
    for tensor in tensors:
        tensor["name"] = "same"
    with pytest.raises(BadRequest, match=r"^duplicate input tensor name 'same'"):
        within(lambda: decode_inputs({"inputs": tensors}))


@FAST
@given(
    st.dictionaries(st.text(max_size=3), st.lists(st.integers(0, 9), max_size=3), min_size=1),
    json_values | st.lists(st.dictionaries(st.just("name"), json_values), max_size=3),
)
def test_requested_outputs_of_any_shape(outputs: dict[str, Any], requested: Any) -> None:
    encoded = decoded_or_refused(lambda: encode_outputs(outputs, requested))
    if not isinstance(encoded, NuserveError):
        assert {t["name"] for t in encoded} <= set(outputs)


# --- hostile values the issue names ---------------------------------------------------------------


def tensor(data: Any, shape: Any, datatype: str = "FP32") -> dict[str, Any]:
    return {"name": "t", "shape": shape, "datatype": datatype, "data": data}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # found by fuzzing: nesting under the JSON parser's 1024 levels overflowed the stack
        (tensor(_nested([1.5], 1000), [1]), r"^tensor 't': data is nested more than 64 levels"),
        (tensor(_nested(["a"], 1000), [1], "BYTES"), r"^tensor 't': data is nested more than 64"),
        (tensor(_nested([1], 70), [1], "INT8"), r"^tensor 't': data is nested more than 64"),
        # found by fuzzing: numpy refused these shapes with a ValueError
        (tensor([], [0, 2**62]), r"^tensor 't': shape \[0, 4611686018427387904\] is too large"),
        (tensor([], [0, 2**70]), r"^tensor 't': shape \[0, 1180591620717411303424\] is too large"),
        (tensor([1.0], [1] * 33), r"^tensor 't': shape has 33 dimensions \(at most 32\)"),
        (tensor([1.0], [2**62, 2**62]), r"^tensor 't': shape \[4611686018427387904, 46"),
        # the rest were already clean
        (tensor([1.0], [-1]), r"^tensor 't': shape must be a list of non-negative integers"),
        (tensor([1.0], [1.0]), r"^tensor 't': shape must be a list of non-negative integers"),
        (tensor([float("nan")], [1], "INT32"), r"^tensor 't': value nan does not fit datatype"),
        (tensor([2**64], [1], "UINT64"), r"^tensor 't': value 18446744073709551616 does not fit"),
        (tensor([1e39], [1]), r"^tensor 't': value 1e\+39 is out of range for FP32"),
        (tensor([10**400], [1], "FP64"), r"^tensor 't': a value is out of range for FP64"),
        (tensor(["a", 1], [2]), r"^tensor 't': value 'a' does not fit datatype FP32"),
        (tensor([[1, "a"]], [2], "BYTES"), r"^tensor 't': value 1 does not fit datatype BYTES"),
        (tensor([True], [1], "INT8"), r"^tensor 't': value True does not fit datatype INT8"),
        (tensor([{"a": 1}], [1], "BOOL"), r"^tensor 't': value \{'a': 1\} does not fit"),
    ],
)
def test_hostile_tensors_get_a_400_naming_the_problem(value: Any, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        within(lambda: decode_tensor(value))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 100_000, r"^request body is not valid JSON: depth limit exceeded"),
        (b'{"inputs": [NaN]}', r"^request body holds a non-finite number \(NaN\) at inputs\[0\]"),
        (
            b'{"inputs": [Infinity]}',
            r"^request body holds a non-finite number \(Infinity\) at inputs\[0\]",
        ),
        (
            b'{"inputs": [1e400]}',
            r"^request body holds a non-finite number \(Infinity\) at inputs\[0\]",
        ),
        (b'{"inputs": ["\xff"]}', r"^request body is not valid JSON: str is not valid UTF-8"),
        (b'{"inputs": [1]', r"^request body is not valid JSON: unexpected end of data"),
        (b"[1]", r"^request body must be a JSON object \(got list\)"),
    ],
)
def test_hostile_bodies_get_a_400_naming_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        within(lambda: decode_body(raw))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300_000), st.sampled_from(NUMERIC))
def test_huge_arrays_decode_in_time(size: int, datatype: str) -> None:
    data = [1] * size if datatype != "BOOL" else [True] * size
    array = within(lambda: decode_tensor(tensor(data, [size], datatype)), seconds=5)
    assert array.shape == (size,)
