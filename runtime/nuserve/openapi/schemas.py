"""The JSON schemas of the bodies nuserve reads and writes (``components.schemas``).

The Open Inference Protocol schemas keep the names, properties and required fields of the
protocol's own OpenAPI document (kserve/open-inference-protocol, ``inference_rest.yaml``), so
``tests/unit/openapi`` can check them against it property by property. Where nuserve says more
than the protocol, it narrows, never widens: ``datatype`` is one of the datatypes the tensor
codec decodes (the protocol's list less ``BF16``, which numpy has no type for), request shapes
are non-negative and responses name the fields nuserve always sends as required.

The other schemas are nuserve's own: MLRun rows (``{"inputs": [[...], ...]}``, the body the
model's hooks speak), KServe v1, the health and listing answers, and the one error body.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
"""A JSON schema (the OpenAPI 3.0 dialect) as a plain dict."""

OIP_SCHEMAS = (
    "parameters",
    "tensor_data",
    "request_input",
    "request_output",
    "inference_request",
    "response_output",
    "inference_response",
    "metadata_tensor",
    "metadata_model_response",
    "metadata_server_response",
)
"""The schemas named as in the Open Inference Protocol's document (and shaped like them)."""


def ref(name: str) -> Schema:
    """A reference to ``components.schemas.<name>``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _string_array() -> Schema:
    return {"type": "array", "items": {"type": "string"}}


def _object(properties: dict[str, Schema], required: list[str], **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": required, **extra}


def datatypes() -> list[str]:
    """The tensor datatypes the codec decodes and encodes (its own table, not a copy)."""
    from nuserve.protocols.oip import DATATYPES  # noqa: PLC0415 - numpy only when documenting

    return list(DATATYPES)


def oip_schemas() -> dict[str, Schema]:
    """The Open Inference Protocol bodies: tensors, inference, metadata."""
    shape = {"type": "array", "items": {"type": "integer", "minimum": 0}}
    return {
        "parameters": {"type": "object"},
        "tensor_data": {
            "type": "array",
            "items": {
                "anyOf": [
                    ref("tensor_data"),
                    {"type": "number"},
                    {"type": "string"},
                    {"type": "boolean"},
                ]
            },
        },
        "datatype": {"type": "string", "enum": datatypes()},
        "request_input": _object(
            {
                "name": {"type": "string"},
                "shape": shape,
                "datatype": ref("datatype"),
                "parameters": ref("parameters"),
                "data": ref("tensor_data"),
            },
            ["name", "shape", "datatype", "data"],
        ),
        "request_output": _object(
            {"name": {"type": "string"}, "parameters": ref("parameters")}, ["name"]
        ),
        "inference_request": _object(
            {
                "id": {"type": "string"},
                "parameters": ref("parameters"),
                "inputs": {"type": "array", "items": ref("request_input"), "minItems": 1},
                "outputs": {"type": "array", "items": ref("request_output")},
            },
            ["inputs"],
        ),
        "response_output": _object(
            {
                "name": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
                "datatype": ref("datatype"),
                "parameters": ref("parameters"),
                "data": ref("tensor_data"),
            },
            ["name", "shape", "datatype", "data"],
        ),
        "inference_response": _object(
            {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "parameters": ref("parameters"),
                "outputs": {"type": "array", "items": ref("response_output")},
            },
            ["id", "model_name", "outputs"],
        ),
        # Metadata datatypes stay free text: they come from the model spec, whose
        # value types (MLRun's "float", "int") are not the protocol's datatypes.
        "metadata_tensor": _object(
            {
                "name": {"type": "string"},
                "datatype": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
            },
            ["name", "datatype", "shape"],
        ),
        "metadata_model_response": _object(
            {
                "name": {"type": "string"},
                "versions": _string_array(),
                "platform": {"type": "string"},
                "inputs": {"type": "array", "items": ref("metadata_tensor")},
                "outputs": {"type": "array", "items": ref("metadata_tensor")},
                "properties": {"type": "object", "additionalProperties": {"type": "string"}},
                "framework": {"type": "string"},
                "operations": _string_array(),
            },
            ["name", "versions", "platform", "inputs", "outputs", "operations"],
        ),
        "metadata_server_response": _object(
            {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "extensions": _string_array(),
            },
            ["name", "version", "extensions"],
        ),
    }


def nuserve_schemas() -> dict[str, Schema]:
    """nuserve's own bodies: rows, KServe v1, health, listing, errors."""
    return {
        "error": _object(
            {
                "error": {"type": "string", "description": "what went wrong, and the fix"},
                "id": {"type": "string", "description": "the event id (X-Request-Id)"},
            },
            ["error", "id"],
        ),
        "rows_request": _object(
            {
                "id": {"type": "string"},
                "inputs": {
                    "description": "the model's input, as its hooks see it (MLRun rows)",
                    "anyOf": [{"type": t} for t in NOT_NULL],
                },
            },
            ["inputs"],
        ),
        "rows_response": _object(
            {
                "id": {"type": "string"},
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "outputs": {"description": "what the model's predict returned"},
                "timestamp": {"type": "string"},
            },
            ["id", "model_name", "outputs"],
        ),
        "kserve_v1_request": {
            "anyOf": [
                _object({"instances": {"type": "array"}}, ["instances"]),
                _object({"inputs": {"type": "array"}}, ["inputs"]),
            ]
        },
        "kserve_v1_response": _object({"predictions": {}}, ["predictions"]),
        "kserve_v1_explanation": _object({"explanations": {}}, ["explanations"]),
        "model_ready": _object(
            {"name": {"type": "string"}, "ready": {"type": "boolean", "enum": [True]}},
            ["name", "ready"],
        ),
        "server_alive": _object(
            {
                "status": {"type": "string", "enum": ["alive"]},
                "ready": {"type": "boolean"},
                "models": {"type": "integer"},
            },
            ["status", "ready"],
        ),
        "server_live": _object({"live": {"type": "boolean", "enum": [True]}}, ["live"]),
        "server_ready": _object(
            {"ready": {"type": "boolean", "enum": [True]}, "models": {"type": "integer"}},
            ["ready"],
        ),
        "model_list": _object(
            {
                "models": _string_array(),
                "versions": {"type": "object", "additionalProperties": _string_array()},
                "routers": {"type": "object"},
            },
            ["models", "versions"],
        ),
    }


NOT_NULL = ("array", "object", "number", "string", "boolean")
"""Any JSON value but ``null`` (OpenAPI 3.0 has no ``"type": "null"`` to negate)."""

JSON_TYPES = {
    "float": "number",
    "double": "number",
    "int": "integer",
    "uint": "integer",
    "long": "integer",
    "str": "string",
    "bool": "boolean",
}
"""Model spec value types (MLRun's ``ValueType``: ``float``, ``int64``, ...) by prefix."""


def json_type(value_type: str) -> Schema:
    """The schema of one feature value; an unknown value type accepts anything."""
    for prefix, kind in JSON_TYPES.items():
        if value_type.lower().startswith(prefix):
            return {"type": kind}
    return {}


def rows_for_features(value_types: list[str]) -> Schema:
    """MLRun rows for a model whose spec lists its input features: rows of that width."""
    width = len(value_types)
    row: Schema = {"type": "array", "minItems": width, "maxItems": width}
    if len(set(value_types)) == 1:
        row["items"] = json_type(value_types[0])
    return _object(
        {
            "id": {"type": "string"},
            "inputs": {"type": "array", "items": row, "minItems": 1},
        },
        ["inputs"],
    )
