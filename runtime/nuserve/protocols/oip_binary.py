"""The OIP binary tensor extension: tensors as raw bytes after a JSON header, in and out.

A request (or response) body is ``JSON header + binary chunks``; the header's length is in
the ``Inference-Header-Content-Length`` HTTP header, and each tensor sent as bytes says how
many in ``parameters.binary_data_size`` (chunks follow in the order of the tensors). Numbers
are little-endian, row-major; ``BYTES`` elements are each a 4-byte little-endian length and
that many bytes; ``BF16`` (which numpy lacks) is kept as its raw 16 bits (``uint16``).

Decoding is zero-copy: each array is ``np.frombuffer`` over the request body (so it is
read-only). Encoding joins the JSON header with the arrays' own buffers, without a JSON
detour. Every error is a 400 naming the tensor.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import orjson

from nuserve.errors import BadRequest, ModelError
from nuserve.protocols.binary_header import BINARY_HEADER
from nuserve.protocols.oip import BF16_BITS, BY_KIND, DATATYPES, Array, bf16_bits, encode_tensor

HEADER = BINARY_HEADER
"""The HTTP header carrying the JSON header's length (Nuclio's canonical spelling)."""
HEADER_LOWER = HEADER.lower()
CONTENT_TYPE = "application/octet-stream"
"""The content type of a response with binary tensors (as Triton and KServe answer)."""
_LENGTH = struct.Struct("<I")
_LITTLE = {name: dt.newbyteorder("<") for name, dt in DATATYPES.items() if name != "BYTES"}
_LITTLE["BF16"] = np.dtype("<u2")


def split_body(raw: bytes | bytearray | memoryview, length: int) -> dict[str, Any]:
    """The JSON header of a binary request, with each binary input's array in its ``data``.

    ``raw`` is the whole body; the arrays are views of it.
    """
    view = memoryview(raw)
    size = view.nbytes
    if length > size:
        raise BadRequest(
            f"{HEADER} is {length} but the body has only {size} bytes; send the JSON "
            "header's length in bytes"
        )
    try:
        body = orjson.loads(view[:length])
    except orjson.JSONDecodeError as exc:
        raise BadRequest(
            f"the first {length} bytes ({HEADER}) are not a JSON object: {exc}"
        ) from None
    if type(body) is not dict:
        raise BadRequest(
            f"the first {length} bytes ({HEADER}) must be a JSON object, got {type(body).__name__}"
        )
    attach_binary(body, view[length:])
    return body


def attach_binary(body: dict[str, Any], rest: memoryview) -> None:
    """Decode each input with ``binary_data_size`` from ``rest``, in order, into its ``data``."""
    inputs = body.get("inputs")
    offset, end, last = 0, rest.nbytes, None
    for tensor in inputs if isinstance(inputs, list) else ():
        if not isinstance(tensor, dict):
            continue
        parameters = tensor.get("parameters")
        if not isinstance(parameters, dict) or "binary_data_size" not in parameters:
            continue
        name = tensor.get("name")
        where = f"input {name!r}"
        size = parameters["binary_data_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BadRequest(
                f"{where}: binary_data_size must be a non-negative integer, got {size!r}"
            )
        if "data" in tensor:
            raise BadRequest(f"{where}: has both 'data' and binary_data_size; send one")
        if offset + size > end:
            raise BadRequest(
                f"{where}: binary_data_size {size} runs past the end of the body "
                f"({end - offset} bytes left after the JSON header and the inputs before it)"
            )
        tensor["data"] = decode_binary(where, tensor, rest[offset : offset + size])
        offset += size
        last = name
    if offset != end:
        after = f"after input {last!r}" if last is not None else "and no input has binary_data_size"
        raise BadRequest(
            f"the binary_data_size of the inputs add up to {offset} bytes, but the body "
            f"has {end} bytes after the JSON header ({end - offset} left over {after})"
        )


def decode_binary(where: str, tensor: dict[str, Any], chunk: memoryview) -> Array:
    """One tensor's raw bytes as a flat array of its datatype (a view of ``chunk``)."""
    datatype = tensor.get("datatype")
    shape = tensor.get("shape")
    count = 1
    if not isinstance(shape, list):
        raise BadRequest(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
    for d in shape:  # one loop, no generator: this runs on every binary tensor
        if not isinstance(d, int) or d < 0:
            raise BadRequest(
                f"{where}: shape must be a list of non-negative integers, got {shape!r}"
            )
        count *= d
    if datatype == "BYTES":
        return _decode_bytes(where, chunk, count, tensor.get("parameters"))
    dtype = _LITTLE.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise BadRequest(
            f"{where}: unknown datatype {datatype!r} (expected one of {', '.join(_LITTLE)}, BYTES)"
        )
    if chunk.nbytes != count * dtype.itemsize:
        raise BadRequest(
            f"{where}: binary_data_size is {chunk.nbytes} bytes but shape {shape} of "
            f"{datatype} needs {count * dtype.itemsize} ({count} x {dtype.itemsize})"
        )
    return np.frombuffer(chunk, dtype=dtype)


def decode_raw(name: str, tensor: dict[str, Any], chunk: bytes) -> Array:
    """``decode_binary`` of a gRPC ``raw_input_contents`` entry, for a tensor whose datatype
    and shape (a list of ints) are read already: a numeric datatype whose size is right (most
    calls) is checked without wording the error it does not raise; anything else goes to
    ``decode_binary``, which names what is wrong."""
    dtype = _LITTLE.get(tensor["datatype"])
    if dtype is not None:
        count = 1
        for d in tensor["shape"]:
            if d < 0:
                break
            count *= d
        else:
            if len(chunk) == count * dtype.itemsize:
                return np.frombuffer(chunk, dtype=dtype)
    return decode_binary(f"input {name!r}", tensor, memoryview(chunk))


def _decode_bytes(where: str, chunk: memoryview, count: int, parameters: Any) -> Array:
    as_str = isinstance(parameters, dict) and parameters.get("content_type") == "str"
    out = np.empty(count, dtype=object)
    data = chunk.tobytes() if not chunk.contiguous else chunk
    offset, end = 0, chunk.nbytes
    for i in range(count):
        if offset + 4 > end:
            raise BadRequest(
                f"{where}: BYTES element {i} has no 4-byte length prefix "
                f"({end - offset} bytes left of binary_data_size {end}; shape needs {count})"
            )
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += 4
        if offset + length > end:
            raise BadRequest(
                f"{where}: BYTES element {i} says {length} bytes but only {end - offset} "
                f"are left of its binary_data_size {end}"
            )
        value = bytes(data[offset : offset + length])
        offset += length
        if as_str:
            try:
                out[i] = value.decode()
            except UnicodeDecodeError:
                raise BadRequest(f"{where}: BYTES element {i} is not valid UTF-8") from None
        else:
            out[i] = value
    if offset != end:
        raise BadRequest(
            f"{where}: {end - offset} bytes of binary_data_size {end} are left over after "
            f"the {count} BYTES elements its shape holds"
        )
    return out


def as_array(name: str, value: object, datatype: object = None) -> Array:
    """A model's output value as an array (a numpy one as it is)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(datatype, str) and datatype in DATATYPES and datatype != "BYTES":
        return np.asarray(value, dtype=DATATYPES[datatype])
    try:
        arr = np.asarray(value)
        if arr.dtype.kind in "US":
            arr = np.asarray(value, dtype=object)
    except (ValueError, TypeError) as err:
        raise ModelError(f"output {name!r}: cannot encode {value!r:.60}: {err}") from None
    return arr


def binary_tensor(name: str, value: object, datatype: object = None) -> tuple[dict[str, Any], Any]:
    """``(tensor header without data, its bytes)`` of one output."""
    arr = value if value.__class__ is np.ndarray else as_array(name, value, datatype)
    if datatype == "BF16" and arr.dtype.name != "bfloat16":
        arr = arr.astype(BF16_BITS) if arr.dtype.kind in "iub" else bf16_bits(arr)
    flat = arr.reshape(-1)
    dtype = flat.dtype
    kind = dtype.kind
    if kind in "USO" or datatype == "BYTES":
        parts: list[bytes] = []
        for v in flat.tolist():
            data = v if isinstance(v, bytes) else str(v).encode()
            parts.append(_LENGTH.pack(len(data)))
            parts.append(data)
        raw: Any = b"".join(parts)
        found = "BYTES"
    else:
        found_name = BY_KIND.get((kind, dtype.itemsize))
        # ``dtype.name`` costs microseconds; bfloat16 (ml_dtypes) is the only kind "V" taken
        if datatype == "BF16" or (kind == "V" and dtype.name == "bfloat16"):
            found_name = "BF16"
        if found_name is None:
            raise ModelError(f"output {name!r}: cannot encode dtype {dtype} as an OIP tensor")
        found = found_name
        if dtype.byteorder == ">":
            flat = flat.astype(dtype.newbyteorder("<"))
        raw = np.ascontiguousarray(flat).data
    size = raw.nbytes if raw.__class__ is memoryview else len(raw)
    header = {
        "name": name,
        "shape": list(arr.shape),
        "datatype": found,
        "parameters": {"binary_data_size": size},
    }
    return header, raw


def encode_binary_body(
    body: dict[str, Any],
    values: list[tuple[str, object, object]],
    binary: list[bool],
) -> tuple[bytes, int]:
    """``(body bytes, JSON header length)``: ``values`` are ``(name, value, datatype)``,
    each sent as bytes where ``binary`` says, else as a JSON tensor."""
    tensors: list[dict[str, Any]] = []
    chunks: list[Any] = []
    for (name, value, datatype), as_bytes in zip(values, binary, strict=True):
        if as_bytes:
            header, raw = binary_tensor(name, value, datatype)
            tensors.append(header)
            chunks.append(raw)
        else:
            tensors.append(encode_tensor(name, value))
    body["outputs"] = tensors
    head = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    return b"".join([head, *chunks]), len(head)
