"""The OIP binary tensor extension through the mock server: every datatype in and out,
zero-copy decoding, and each malformed body a 400 naming the input."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson
import pytest

import nuserve
from nuserve.protocols.oip_binary import split_body

HEADER = "Inference-Header-Content-Length"
SEEN: list[Any] = []


class Echo(nuserve.V2ModelServer):
    """Answers its inputs; remembers the arrays it was given."""

    def load(self) -> None:
        self.model = "echo"

    def predict(self, request: dict[str, Any]) -> Any:
        SEEN.append(request["inputs"])
        return request["inputs"]


def binary_body(
    tensors: list[tuple[str, str, list[int], bytes]], **extra: Any
) -> tuple[bytes, int]:
    """``(body, JSON length)`` with each ``(name, datatype, shape, raw)`` sent as bytes."""
    inputs = [
        {"name": n, "datatype": d, "shape": s, "parameters": {"binary_data_size": len(raw)}}
        for n, d, s, raw in tensors
    ]
    head = orjson.dumps({"inputs": inputs, **extra})
    return head + b"".join(raw for *_, raw in tensors), len(head)


def bytes_raw(values: list[bytes]) -> bytes:
    return b"".join(struct.pack("<I", len(v)) + v for v in values)


@pytest.fixture
def server() -> Any:
    fn = nuserve.new_function("binary")
    fn.add_model("e", class_name=Echo)
    return fn.to_mock_server(namespace={"Echo": Echo})


def post(server: Any, body: bytes, length: int, name: str = HEADER) -> Any:
    return server.test(
        "/v2/models/e/infer", body, headers={name: str(length)}, silent=True, get_body=False
    )


def parse(response: Any) -> tuple[dict[str, Any], bytes]:
    length = int(response.headers[HEADER])
    return orjson.loads(response.body[:length]), response.body[length:]


NUMERIC = [
    ("BOOL", np.array([True, False, True])),
    ("UINT8", np.arange(5, dtype=np.uint8)),
    ("UINT16", np.arange(5, dtype=np.uint16)),
    ("UINT32", np.arange(5, dtype=np.uint32)),
    ("UINT64", np.array([0, 2**64 - 1], dtype=np.uint64)),
    ("INT8", np.array([-128, 127], dtype=np.int8)),
    ("INT16", np.arange(-3, 3, dtype=np.int16)),
    ("INT32", np.arange(-3, 3, dtype=np.int32)),
    ("INT64", np.array([-(2**63), 2**63 - 1], dtype=np.int64)),
    ("FP16", np.array([0.5, -1.25, 65504], dtype=np.float16)),
    ("FP32", np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)),
    ("FP64", np.array([1e300, -1e-300])),
]


@pytest.mark.parametrize(("datatype", "array"), NUMERIC, ids=[d for d, _ in NUMERIC])
def test_each_numeric_datatype_round_trips_as_bytes(server: Any, datatype: str, array: Any) -> None:
    body, length = binary_body(
        [("x", datatype, list(array.shape), array.tobytes())],
        parameters={"binary_data_output": True},
    )
    response = post(server, body, length)
    assert response.status_code == 200, response.body
    assert response.content_type == "application/octet-stream"
    head, rest = parse(response)
    [out] = head["outputs"]
    assert out == {
        "name": "output-0",
        "shape": list(array.shape),
        "datatype": datatype,
        "parameters": {"binary_data_size": array.nbytes},
    }
    assert rest == array.tobytes()
    assert SEEN[-1].dtype == array.dtype and SEEN[-1].shape == array.shape


def test_bytes_elements_carry_little_endian_length_prefixes(server: Any) -> None:
    values = [b"abc", b"", "ü".encode(), b"\x00\xff"]
    body, length = binary_body(
        [("s", "BYTES", [2, 2], bytes_raw(values))], parameters={"binary_data_output": True}
    )
    response = post(server, body, length)
    assert response.status_code == 200, response.body
    head, rest = parse(response)
    assert head["outputs"][0]["datatype"] == "BYTES"
    assert rest == bytes_raw(values)
    assert SEEN[-1].tolist() == [[b"abc", b""], ["ü".encode(), b"\x00\xff"]]


def test_bf16_arrives_as_its_raw_bits_and_json_bf16_is_rounded_to_them(server: Any) -> None:
    bits = np.array([0x3F80, 0xC000], dtype=np.uint16)  # 1.0, -2.0
    body, length = binary_body([("b", "BF16", [2], bits.tobytes())])
    assert post(server, body, length).status_code == 200
    assert SEEN[-1].dtype == np.uint16 and SEEN[-1].tolist() == [0x3F80, 0xC000]
    tensor = {"name": "b", "datatype": "BF16", "shape": [2], "data": [1.0, -2.0]}
    server.test("/v2/models/e/infer", {"inputs": [tensor]})
    assert SEEN[-1].tolist() == [0x3F80, 0xC000]


def test_binary_inputs_are_views_of_the_body_not_copies() -> None:
    array = np.arange(1000, dtype=np.float32)
    body, length = binary_body([("x", "FP32", [1000], array.tobytes())])
    decoded = split_body(body, length)["inputs"][0]["data"]
    assert np.shares_memory(decoded, np.frombuffer(body, dtype=np.uint8))
    assert not decoded.flags.writeable


def test_binary_and_json_inputs_mix_and_outputs_choose_binary_by_name(server: Any) -> None:
    a = np.arange(4, dtype=np.int32)
    inputs = [
        {"name": "a", "datatype": "INT32", "shape": [4], "parameters": {"binary_data_size": 16}},
        {"name": "j", "datatype": "FP64", "shape": [2], "data": [1.5, 2.5]},
    ]
    outputs = [{"name": "j", "parameters": {"binary_data": True}}, {"name": "a"}]
    head = orjson.dumps({"inputs": inputs, "outputs": outputs})
    response = post(server, head + a.tobytes(), len(head))
    assert response.status_code == 200, response.body
    out, rest = parse(response)
    j, a_out = out["outputs"]
    assert j["name"] == "j" and j["parameters"] == {"binary_data_size": 16}
    assert a_out == {"name": "a", "shape": [4], "datatype": "INT32", "data": [0, 1, 2, 3]}
    assert np.frombuffer(rest, np.float64).tolist() == [1.5, 2.5]


def test_without_binary_outputs_asked_the_answer_is_json(server: Any) -> None:
    body, length = binary_body([("x", "FP32", [2], np.ones(2, np.float32).tobytes())])
    response = post(server, body, length)
    assert response.status_code == 200
    assert response.body["outputs"][0]["data"] == [1.0, 1.0]


def test_the_lower_case_header_is_read_too(server: Any) -> None:
    body, length = binary_body([("x", "INT8", [1], b"\x07")])
    assert post(server, body, length, name=HEADER.lower()).status_code == 200
    assert SEEN[-1].tolist() == [7]


BAD = [
    (
        "sizes short of the body",
        [("x", "INT8", [2], b"\x01\x02")],
        b"\x03",
        0,
        "the binary_data_size of the inputs add up to 2 bytes, but the body has 3 bytes after "
        "the JSON header (1 left over after input 'x')",
    ),
    (
        "size past the body",
        [("x", "INT8", [2], b"\x01\x02"), ("y", "INT8", [2], b"\x01\x02")],
        b"",
        -1,
        "input 'y': binary_data_size 2 runs past the end of the body (1 bytes left after the "
        "JSON header and the inputs before it)",
    ),
    (
        "size not the shape's",
        [("x", "FP32", [3], b"\x00" * 8)],
        b"",
        0,
        "input 'x': binary_data_size is 8 bytes but shape [3] of FP32 needs 12 (3 x 4)",
    ),
    (
        "BYTES prefix overruns",
        [("s", "BYTES", [1], struct.pack("<I", 10) + b"abc")],
        b"",
        0,
        "input 's': BYTES element 0 says 10 bytes but only 3 are left of its binary_data_size 7",
    ),
    (
        "BYTES missing a prefix",
        [("s", "BYTES", [2], bytes_raw([b"ab"]))],
        b"",
        0,
        "input 's': BYTES element 1 has no 4-byte length prefix (0 bytes left of "
        "binary_data_size 6; shape needs 2)",
    ),
]


@pytest.mark.parametrize(
    ("tensors", "tail", "cut", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_malformed_binary_bodies_are_400s_naming_the_input(
    server: Any, tensors: Any, tail: bytes, cut: int, message: str
) -> None:
    body, length = binary_body(tensors)
    body = body + tail
    if cut:
        body = body[:cut]
    response = post(server, body, length)
    assert response.status_code == 400
    assert response.body["error"] == message
    ok, n = binary_body([("x", "INT8", [1], b"\x01")])
    assert post(server, ok, n).status_code == 200  # still serving


def test_a_header_length_past_the_body_is_a_400(server: Any) -> None:
    response = post(server, b'{"inputs": []}', 99)
    assert response.status_code == 400
    assert response.body["error"] == (
        "Inference-Header-Content-Length is 99 but the body has only 14 bytes; send the JSON "
        "header's length in bytes"
    )
    response = post(server, b"{}", "two")  # type: ignore[arg-type]
    assert response.body["error"].startswith(
        "Inference-Header-Content-Length must be the JSON header's length in bytes"
    )


def test_a_decoded_array_is_checked_as_any_tensor() -> None:
    """``decode_tensor`` reshapes an array decoded from bytes at once only when every field is
    well formed; each other case is refused as the whole check refuses it."""
    from nuserve.errors import BadRequest
    from nuserve.protocols.oip import MAX_DIMS, decode_tensor

    def tensor(**fields: Any) -> dict[str, Any]:
        return {
            "name": "x",
            "datatype": "FP32",
            "shape": [2, 3],
            "data": np.zeros(6, np.float32),
            **fields,
        }

    assert decode_tensor(tensor()).shape == (2, 3)
    assert decode_tensor(tensor(datatype="BF16", data=np.zeros(6, np.uint16))).dtype == np.uint16
    assert decode_tensor(tensor(shape=[0, 5], data=np.zeros(0, np.float32))).shape == (0, 5)
    wrong = [
        (tensor(name=7), "input tensor 'name' must be a string"),
        (tensor(shape=(2, 3)), "shape must be a list of non-negative integers"),
        (tensor(shape=[2, True, 3]), "shape must be a list of non-negative integers"),
        (tensor(shape=[2, -3]), "shape must be a list of non-negative integers"),
        (tensor(shape=[1] * (MAX_DIMS + 1), data=np.zeros(1)), "dimensions"),
        (tensor(shape=[0, 2**49, 2], data=np.zeros(0)), "too large"),
        (tensor(datatype=["FP32"]), "unknown datatype"),
        (tensor(datatype="FP8"), "unknown datatype"),
        (tensor(parameters=[1]), "parameters must be an object"),
        (tensor(shape=[4]), "data has 6 values but shape \\[4\\] needs 4"),
    ]
    for bad, message in wrong:
        with pytest.raises(BadRequest, match=message):
            decode_tensor(bad)
