"""Open Inference Protocol (KServe v2) JSON tensor codec.

A tensor is ``{"name", "shape", "datatype", "data"}`` with ``data`` flat (or nested) in
row-major order. Decoding validates everything a client can get wrong and raises
:class:`BadRequest` naming the tensor, the bad value and what was expected; encoding turns
model outputs into JSON-ready tensors (plain Python values, flat ``data``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from nuserve.errors import BadRequest, ModelError
from nuserve.protocols.datatypes import OIP_DATATYPES

Array = npt.NDArray[Any]

DATATYPES: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(object),
}
_EXPECTED_DATATYPES = ", ".join(OIP_DATATYPES)
_ARRAY_DATATYPES = frozenset((*DATATYPES, "BF16"))
"""The datatypes a tensor may declare (BF16 arrives as its raw bits)."""
# (dtype.kind, itemsize) -> datatype; keyed this way so that aliases (intc, longlong) match.
BY_KIND = {(dt.kind, dt.itemsize): name for name, dt in DATATYPES.items() if name != "BYTES"}
BF16_BITS = np.dtype(np.uint16)
"""How a BF16 tensor reaches the model: its raw 16 bits (numpy has no bfloat16)."""
_INT_RANGE = {
    name: (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    for name, dt in DATATYPES.items()
    if dt.kind in "iu"
}
_FLOAT_MAX = {"FP16": float(np.finfo(np.float16).max), "FP32": float(np.finfo(np.float32).max)}
_SCALARS = (bool, int, float, str, bytes)
MAX_DIMS = 32
"""Most dims a tensor may have: numpy 1.x's limit (2.x allows 64), far above real models."""
MAX_NESTING = 64
"""Most levels of nested lists in ``data`` (rows of rows...); deeper is refused, not walked."""
SMALL_ARRAY = 64
"""Values up to which a loop over their types in Python beats numpy's cost per call."""
MAX_VALUES = 2**48
"""Most values a shape may describe, zero dims aside: numpy must be able to size the array."""


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _flatten(where: str, data: list[Any]) -> list[Any]:
    """Nested lists in row-major order, without recursion: nesting is the client's to choose.

    The JSON parser allows 1024 levels, in-process bodies any number; a recursive walk ran out
    of stack on them (a ``RecursionError``, answered as a 500).
    """
    out: list[Any] = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                if len(stack) >= MAX_NESTING:
                    raise BadRequest(
                        f"{where}: data is nested more than {MAX_NESTING} levels deep; "
                        "send it flat, in row-major order, with its dims in 'shape'"
                    )
                stack.append(iter(value))
                break
            out.append(value)
        else:
            stack.pop()
    return out


def _check_shape(where: str, shape: object) -> list[int]:
    """A list of at most ``MAX_DIMS`` non-negative integers that numpy can reshape to.

    ``shape`` and ``data`` must agree, so a huge shape is refused later anyway; but with a
    zero among them the data is empty and numpy itself refused the other dims (``ValueError``).
    """
    if not isinstance(shape, list):
        raise BadRequest(
            f"{where}: shape must be a list of non-negative integers, got {_short(shape)}"
        )
    size = 1  # of the non-zero dims; one loop, no generators: this runs on every tensor
    for d in shape:
        if (type(d) is not int and (not isinstance(d, int) or isinstance(d, bool))) or d < 0:
            raise BadRequest(
                f"{where}: shape must be a list of non-negative integers, got {_short(shape)}"
            )
        if d:
            size *= d
    if len(shape) > MAX_DIMS:
        raise BadRequest(
            f"{where}: shape has {len(shape)} dimensions (at most {MAX_DIMS}); merge some of them"
        )
    if size > MAX_VALUES:
        raise BadRequest(
            f"{where}: shape {_short(shape)} is too large (more than {MAX_VALUES} values)"
        )
    return shape


def _to_float(where: str, datatype: str, dtype: np.dtype[Any], arr: Array) -> Array:
    flat = arr.reshape(-1)
    if dtype.itemsize == 8:  # every int64, uint64 and float64 fits
        return flat.astype(dtype, copy=False)
    limit = _FLOAT_MAX[datatype]
    if np.abs(flat).max() <= limit:  # False for NaN and inf too: they take the careful way
        return flat.astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        out = flat.astype(dtype)
    overflow = np.isinf(out) & np.isfinite(flat)
    if overflow.any():
        value = flat[int(np.argmax(overflow))].item()
        raise BadRequest(f"{where}: value {value!r} is out of range for {datatype} (max {limit})")
    return out


def _decode_slow(where: str, datatype: str, dtype: np.dtype[Any], flat: list[Any]) -> Array:
    """Check each value in Python: used only when numpy's own inference did not fit."""
    ok: Callable[[Any], bool]
    if datatype == "BOOL":
        ok, expected = (lambda v: isinstance(v, bool)), "true or false"
    elif dtype.kind in "iu":
        lo, hi = _INT_RANGE[datatype]
        ok = lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi  # noqa: E731
        expected = f"integers in [{lo}, {hi}]"
    else:
        ok, expected = (lambda v: isinstance(v, int | float) and not isinstance(v, bool)), "numbers"
    for value in flat:
        if not ok(value):
            raise BadRequest(
                f"{where}: value {_short(value)} does not fit datatype {datatype} "
                f"(expected {expected})"
            )
    if dtype.kind != "f":
        return np.array(flat, dtype=dtype)
    try:
        return _to_float(where, datatype, dtype, np.array(flat, dtype=np.float64))
    except OverflowError:
        raise BadRequest(f"{where}: a value is out of range for {datatype}") from None


def _hides_booleans(arr: Array, data: list[Any]) -> bool:
    """Whether JSON ``true`` or ``false`` sits among the numbers numpy read (as 1 and 0).

    numpy took ``[true, 2]`` for ``[1, 2]``. ``arr`` was read from ``data``, so ``data``
    nests ``arr.ndim`` deep, evenly. A small request (a row or a few) has each value's type
    looked at in a plain loop, cheaper than any numpy call. A large array is looked at only
    where it holds a 0 or a 1 (most float data has none): those values by their index when
    they are few, else all values in one pass (``chain``, ``map``: about as long as numpy's
    own reading).
    """
    ndim = arr.ndim
    if arr.size <= SMALL_ARRAY and ndim <= 2:
        for row in data if ndim == 2 else (data,):
            for value in row:
                if value.__class__ is bool:
                    return True
        return False
    if arr.size > SMALL_ARRAY:
        found = np.flatnonzero((arr == 0) | (arr == 1))
        if found.size == 0:
            return False
        if found.size * 8 < arr.size:
            axes = (axis.tolist() for axis in np.unravel_index(found, arr.shape))
            return any(type(_item(data, index)) is bool for index in zip(*axes, strict=True))
    values: Iterable[Any] = data
    for _ in range(ndim - 1):
        values = chain.from_iterable(values)
    return bool in map(type, values)


def _item(data: list[Any], index: tuple[int, ...]) -> Any:
    for i in index:
        data = data[i]
    return data


def _decode_numbers(where: str, datatype: str, dtype: np.dtype[Any], data: list[Any]) -> Array:
    """Let numpy infer the array in C; fall back to a per-value check only when it misfits
    (a value out of range, of another type, or a boolean among numbers)."""
    try:
        arr = np.asarray(data)
    except ValueError:  # ragged nesting: flatten in Python, row-major
        data = _flatten(where, data)
        arr = np.asarray(data)
    if arr.size == 0 and arr.dtype.kind != "O":
        return np.empty(0, dtype)
    kind = arr.dtype.kind
    if datatype == "BOOL":
        if kind == "b":
            return arr.reshape(-1)
    elif dtype.kind in "iu":
        if kind in "iu" and not _hides_booleans(arr, data):
            lo, hi = _INT_RANGE[datatype]
            if arr.dtype == dtype or (lo <= int(arr.min()) and int(arr.max()) <= hi):
                return arr.astype(dtype, copy=False).reshape(-1)
    elif kind in "iuf" and not _hides_booleans(arr, data):
        return _to_float(where, datatype, dtype, arr)
    return _decode_slow(where, datatype, dtype, _flatten(where, data))


def _decode_bytes(where: str, data: list[Any], as_str: bool) -> Array:
    values: list[str | bytes] = []
    for value in _flatten(where, data):
        if isinstance(value, str):
            values.append(value if as_str else value.encode())
        elif isinstance(value, bytes):
            try:
                values.append(value.decode() if as_str else value)
            except UnicodeDecodeError:
                raise BadRequest(f"{where}: value {_short(value)} is not valid UTF-8") from None
        else:
            raise BadRequest(
                f"{where}: value {_short(value)} does not fit datatype BYTES (expected strings)"
            )
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def decode_tensor(tensor: object) -> Array:
    """Validate one request tensor and return it as an array of its declared dtype and shape.

    BYTES values become ``bytes``, or ``str`` with ``parameters: {"content_type": "str"}``.

    A tensor decoded from bytes already (``oip_binary``: an array in ``data``) whose fields are
    all well formed, with no zero dim, is reshaped at once; any other goes the whole way,
    which words the error (the same checks, in the order that picks the error named).
    """
    if tensor.__class__ is dict:
        data = tensor.get("data")
        if data.__class__ is np.ndarray:
            shape = tensor.get("shape")
            datatype = tensor.get("datatype")
            parameters = tensor.get("parameters")
            if (
                tensor.get("name").__class__ is str
                and shape.__class__ is list
                and datatype.__class__ is str
                and datatype in _ARRAY_DATATYPES
                and (parameters is None or parameters.__class__ is dict)
                and len(shape) <= MAX_DIMS
            ):
                count = 1
                for d in shape:
                    if d.__class__ is not int or d <= 0:
                        break
                    count *= d
                else:
                    if count == data.size and count <= MAX_VALUES:
                        return data.reshape(shape)
    if not isinstance(tensor, dict):
        raise BadRequest(
            f"input tensor must be an object with name, shape, datatype and data, "
            f"got {_short(tensor)}"
        )
    name = tensor.get("name")
    if not isinstance(name, str):
        raise BadRequest(f"input tensor 'name' must be a string, got {_short(name)}")
    where = f"tensor {name!r}"
    shape = _check_shape(where, tensor.get("shape"))
    datatype = tensor.get("datatype")
    if not isinstance(datatype, str) or (datatype not in DATATYPES and datatype != "BF16"):
        raise BadRequest(
            f"{where}: unknown datatype {_short(datatype)} (expected one of {_EXPECTED_DATATYPES})"
        )
    parameters = tensor.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise BadRequest(f"{where}: parameters must be an object, got {_short(parameters)}")
    if "data" not in tensor:
        raise BadRequest(f"{where}: missing 'data' (expected a list of {shape} values)")
    data, count = tensor["data"], math.prod(shape)
    if isinstance(data, np.ndarray):  # decoded from binary data already (``oip_binary``)
        if data.size != count:
            raise BadRequest(
                f"{where}: data has {data.size} values but shape {shape} needs {count}"
            )
        return data.reshape(shape)
    if datatype == "BF16":
        flat = bf16_bits(_decode_numbers(where, "FP32", DATATYPES["FP32"], _listed(data)))
        if flat.size != count:
            raise BadRequest(
                f"{where}: data has {flat.size} values but shape {shape} needs {count}"
            )
        return flat.reshape(shape)
    dtype = DATATYPES[datatype]
    if not isinstance(data, list):
        if not (isinstance(data, _SCALARS) and len(shape) <= 1 and count == 1):
            raise BadRequest(f"{where}: data must be a list, got {_short(data)}")
        data = [data]
    if datatype == "BYTES":
        as_str = parameters is not None and parameters.get("content_type") == "str"
        flat = _decode_bytes(where, data, as_str)
    else:
        flat = _decode_numbers(where, datatype, dtype, data)
    if flat.size != count:
        raise BadRequest(f"{where}: data has {flat.size} values but shape {shape} needs {count}")
    return flat.reshape(shape)


def _listed(data: object) -> list[Any]:
    return data if isinstance(data, list) else [data]


def bf16_bits(values: Array) -> Array:
    """FP32 values as BF16 bits, rounded to nearest even (as PyTorch and ml_dtypes do)."""
    bits = values.astype(np.float32).view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    return (rounded >> np.uint32(16)).astype(BF16_BITS)


def decode_inputs(body: Mapping[str, Any]) -> Array | dict[str, Array]:
    """One input tensor gives its array; several give ``{name: array}``."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest(f"'inputs' must be a non-empty list of tensors, got {_short(inputs)}")
    if len(inputs) == 1:
        return decode_tensor(inputs[0])
    arrays: dict[str, Array] = {}
    for tensor in inputs:
        array = decode_tensor(tensor)
        name = tensor["name"]
        if name in arrays:
            raise BadRequest(f"duplicate input tensor name {name!r} (names must be unique)")
        arrays[name] = array
    return arrays


def _text(name: str, value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    raise ModelError(f"output {name!r}: cannot encode {_short(value)} as BYTES (expected strings)")


def encode_tensor(name: str, value: object) -> dict[str, object]:
    """Encode an array, nested list or scalar as a tensor with flat, JSON-ready ``data``."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
            if arr.dtype.kind in "US":  # keep str and bytes apart (numpy would coerce them)
                arr = np.asarray(value, dtype=object)
        except (ValueError, TypeError) as err:
            raise ModelError(f"output {name!r}: cannot encode {_short(value)}: {err}") from None
    flat = arr.reshape(-1)
    if arr.dtype.kind == "O" and not all(isinstance(v, str | bytes) for v in flat):
        flat = np.asarray(flat.tolist())  # e.g. an object array of numbers
    kind = flat.dtype.kind
    if kind in "USO":
        datatype, data = "BYTES", [_text(name, v) for v in flat.tolist()]
    else:
        found = BY_KIND.get((kind, flat.dtype.itemsize))
        if found is None:
            raise ModelError(
                f"output {name!r}: cannot encode dtype {flat.dtype} "
                f"(expected one of {_EXPECTED_DATATYPES})"
            )
        datatype, data = found, flat.tolist()
    return {"name": name, "shape": list(arr.shape), "datatype": datatype, "data": data}


def _is_encoded(value: object) -> bool:
    return isinstance(value, dict) and "name" in value and ("datatype" in value or "data" in value)


def _requested_names(requested: object, available: list[str]) -> list[str]:
    """Names asked for in the request's ``outputs``; absent or empty means all of them."""
    if requested is None:
        return available
    if not isinstance(requested, list) or not all(
        isinstance(r, dict) and isinstance(r.get("name"), str) for r in requested
    ):
        raise BadRequest(
            f"'outputs' must be a list of objects with a 'name' string, got {_short(requested)}"
        )
    names: list[str] = [r["name"] for r in requested]
    for i, name in enumerate(names):
        if name not in available:
            raise BadRequest(
                f"requested output {name!r} is not produced by the model "
                f"(available: {', '.join(map(repr, available))})"
            )
        if name in names[:i]:
            raise BadRequest(f"output {name!r} is requested more than once")
    return names or available


DEFAULT_OUTPUT = "output-0"
"""The name of a model's one output when neither the model nor its spec names it."""


def output_values(
    outputs: object, requested: object = None, default_name: str = DEFAULT_OUTPUT
) -> list[tuple[str, object]]:
    """The ``(name, value)`` of each output to send, in order; a value may be a tensor
    encoded already (a dict with ``name`` and ``datatype`` or ``data``).

    A dict gives one output per key, a list of encoded tensors one per tensor, anything else
    one output named ``default_name`` (the model spec's one output, else ``output-0``).
    ``requested`` is the request's ``outputs``: only those are sent, in its order.
    """
    values: dict[str, object]
    if isinstance(outputs, list) and outputs and all(_is_encoded(t) for t in outputs):
        values = {str(t["name"]): t for t in outputs}
    elif isinstance(outputs, dict):
        values = {str(k): v for k, v in outputs.items()}
    else:
        values = {default_name: outputs}
    return [(n, values[n]) for n in _requested_names(requested, list(values))]


def encode_outputs(
    outputs: object, requested: object = None, default_name: str = DEFAULT_OUTPUT
) -> list[dict[str, object]]:
    """Encode a model's result as JSON tensors (``output_values`` says which).

    A list of already-encoded tensors passes through unchanged.
    """
    encoded = isinstance(outputs, list) and outputs and all(_is_encoded(t) for t in outputs)
    if requested is None and encoded:
        return outputs  # type: ignore[return-value]
    return [
        value if _is_encoded(value) and isinstance(value, dict) else encode_tensor(name, value)
        for name, value in output_values(outputs, requested, default_name)
    ]
