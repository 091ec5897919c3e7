"""OIP round trips as properties: encode → JSON bytes → decode, and decode → encode.

The JSON goes through orjson, as on the wire (``json`` writes ``NaN`` and reads it back, which
no OIP client can). Numeric arrays must come back bit for bit (``-0.0`` included), with their
dtype, shape and tensor name; BYTES come back as the UTF-8 bytes of the strings sent.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nuserve
from nuserve.protocols import OIP
from nuserve.protocols.oip import DATATYPES, decode_inputs, decode_tensor, encode_tensor
from nuserve.server.mock import MockServer
from tests.models import Echo

NUMERIC = [name for name in DATATYPES if name != "BYTES"]
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
names = st.text(max_size=8)


def finite(dtype: np.dtype[Any]) -> st.SearchStrategy[Any]:
    """Every value of ``dtype`` that JSON can carry (it has no NaN and no infinity)."""
    return hnp.from_dtype(dtype, allow_nan=False, allow_infinity=False)


numeric_arrays = st.sampled_from(NUMERIC).flatmap(
    lambda n: hnp.arrays(DATATYPES[n], shapes, elements=finite(DATATYPES[n]))
)
text_arrays = shapes.flatmap(lambda s: hnp.arrays(object, s, elements=st.text(max_size=5)))


def wire(value: Any) -> Any:
    """What the other side reads: the JSON bytes orjson writes, parsed back."""
    return orjson.loads(orjson.dumps(value))


@settings(max_examples=300, deadline=None)
@given(names, numeric_arrays)
def test_numeric_array_survives_encode_json_decode(name: str, array: np.ndarray) -> None:
    tensor = wire(encode_tensor(name, array))
    assert tensor["name"] == name
    assert tensor["datatype"] == NUMERIC[[DATATYPES[n] for n in NUMERIC].index(array.dtype)]
    decoded = decode_tensor(tensor)
    assert decoded.dtype == array.dtype
    assert decoded.shape == array.shape
    assert decoded.tobytes() == array.tobytes()  # bit for bit: -0.0 and float16 too


@settings(max_examples=100, deadline=None)
@given(names, text_arrays)
def test_text_array_survives_as_utf8_bytes(name: str, array: np.ndarray) -> None:
    tensor = wire(encode_tensor(name, array))
    assert (tensor["name"], tensor["datatype"]) == (name, "BYTES")
    decoded = decode_tensor(tensor)
    assert decoded.dtype == object
    assert decoded.shape == array.shape
    assert decoded.reshape(-1).tolist() == [s.encode() for s in array.reshape(-1).tolist()]
    as_str = decode_tensor({**tensor, "parameters": {"content_type": "str"}})
    assert as_str.reshape(-1).tolist() == array.reshape(-1).tolist()


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, numeric_arrays | text_arrays, min_size=2, max_size=4))
def test_several_tensors_survive_the_protocol_both_ways(arrays: dict[str, np.ndarray]) -> None:
    body = wire({"inputs": [encode_tensor(n, a) for n, a in arrays.items()]})
    request = OIP.decode(body)
    assert sorted(request["inputs"]) == sorted(arrays)
    for name, array in arrays.items():
        got = request["inputs"][name]
        assert (got.dtype, got.shape) == (array.dtype, array.shape)
    answer = wire(OIP.encode({"id": "i", "model_name": "m", "outputs": request["inputs"]}, body))
    assert answer["outputs"] == body["inputs"]


# --- decode → encode is stable for valid OIP JSON --------------------------------------------------


@st.composite
def valid_json_tensors(draw: st.DrawFn) -> dict[str, Any]:
    """A valid OIP tensor as a client writes it: any numbers that fit, data flat or nested."""
    datatype = draw(st.sampled_from(list(DATATYPES)))
    shape = draw(shapes)
    count = int(np.prod(shape))
    if datatype == "BYTES":
        values: st.SearchStrategy[Any] = st.text(max_size=4)
    elif datatype == "BOOL":
        values = st.booleans()
    elif datatype.startswith(("INT", "UINT")):
        info = np.iinfo(DATATYPES[datatype])
        values = st.integers(int(info.min), int(info.max))
    else:  # any double in range: FP16 and FP32 round it, once
        top = float(np.finfo(DATATYPES[datatype]).max)
        values = st.floats(-top, top) | st.integers(-1000, 1000)
    flat = draw(st.lists(values, min_size=count, max_size=count))
    data: Any = flat
    if draw(st.booleans()) and shape:  # nested rows, as many clients send them
        data = np.array(flat, dtype=object).reshape(shape).tolist()
    return {"name": draw(names), "shape": list(shape), "datatype": datatype, "data": data}


def canonical(tensor: dict[str, Any]) -> dict[str, Any]:
    return wire(encode_tensor(tensor["name"], decode_tensor(tensor)))


@settings(max_examples=300, deadline=None)
@given(valid_json_tensors())
def test_decode_then_encode_is_stable(tensor: dict[str, Any]) -> None:
    once = canonical(tensor)
    assert once == canonical(once)  # a fixed point after one pass
    assert (once["name"], once["shape"]) == (tensor["name"], tensor["shape"])
    assert once["datatype"] == tensor["datatype"]
    flat = np.array(tensor["data"], dtype=object).reshape(-1).tolist() if tensor["data"] else []
    if tensor["datatype"] in ("BOOL", "BYTES", "FP64") or tensor["datatype"][0] in "IU":
        assert once["data"] == flat  # exact: nothing to round
    else:
        assert len(once["data"]) == len(flat)


@functools.cache
def echo_server() -> MockServer:
    fn = nuserve.new_function("rt")
    fn.add_model("echo", class_name=Echo)
    return fn.to_mock_server()


@settings(max_examples=60, deadline=None)
@given(st.lists(valid_json_tensors(), min_size=1, max_size=3, unique_by=lambda t: t["name"]))
def test_echo_model_answers_the_tensors_it_was_sent(tensors: list[dict[str, Any]]) -> None:
    """End to end through the mock server: what an echo model returns is what was sent."""
    answer = wire(echo_server().test("/v2/models/echo/infer", orjson.dumps({"inputs": tensors})))
    expected = [canonical(t) for t in tensors]
    if len(tensors) == 1:
        expected[0]["name"] = "output-0"  # one input reaches the model as a bare array
    assert answer["outputs"] == expected
    assert decode_inputs({"inputs": answer["outputs"]}) is not None
