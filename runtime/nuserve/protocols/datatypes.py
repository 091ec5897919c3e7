"""OIP datatype names, and the model spec's value types mapped onto them (no numpy here).

Model metadata must name its tensors' datatypes as the Open Inference Protocol does
(``FP32``, ``INT64``, ``BYTES``...): clients check them (mlserver's ``MetadataModelResponse``
refused the ``"float"`` that a model spec written for MLRun holds). MLRun's value types
(``float`` is 32 bits, ``double`` 64; ``int`` is ``INT64`` as ``model.input_checks`` reads
it), numpy's names and OIP's own names all map; anything else (``datetime``, ``str``) is sent
as ``BYTES``.
"""

from __future__ import annotations

OIP_DATATYPES = (
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
    "BF16",
    "BYTES",
)
"""Every datatype the Open Inference Protocol names, in its order."""

VALUE_TYPES: dict[str, str] = {
    "bool": "BOOL",
    "boolean": "BOOL",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "uint": "UINT64",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int": "INT64",
    "int64": "INT64",
    "long": "INT64",
    "float16": "FP16",
    "half": "FP16",
    "float": "FP32",
    "float32": "FP32",
    "float64": "FP64",
    "double": "FP64",
    "bfloat16": "BF16",
    "str": "BYTES",
    "string": "BYTES",
    "bytes": "BYTES",
    "object": "BYTES",
}
"""Model spec value types (MLRun's and numpy's names) → OIP datatype."""

_FLOATS = frozenset({"FP16", "FP32", "FP64", "BF16"})
_INTS = frozenset({"UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"})
ACCEPTS: dict[str, frozenset[str]] = {
    **{name: _FLOATS | _INTS for name in _FLOATS},
    **{name: _INTS | {"BOOL"} for name in _INTS},
    "BOOL": frozenset({"BOOL"}) | _INTS,
    "BYTES": frozenset({"BYTES"}),
}
"""The request datatypes an input of each datatype takes: numbers for numbers (an integer
tensor to a float model is as numpy would cast it; a float one to an integer model is not),
strings for strings."""


def oip_datatype(value_type: str) -> str:
    """The OIP datatype of a model spec's value type (``"float"`` → ``"FP32"``)."""
    if value_type in OIP_DATATYPES:
        return value_type
    return VALUE_TYPES.get(value_type.strip().lower(), "BYTES")
