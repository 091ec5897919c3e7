"""Every OIP body nuserve answers, validated by mlserver's pydantic types; run in its venv.

Usage: python mlserver_validate.py PORT. Prints one JSON object: case → ``{"valid": true,
"outputs": {name: [datatype, shape, values]}}`` or ``{"valid": false, "why": ...}``. The
outputs are decoded by mlserver's own ``NumpyCodec``.
"""

from __future__ import annotations

import http.client
import json
import sys
from typing import Any

from mlserver.codecs import NumpyCodec
from mlserver.types import (
    InferenceResponse,
    MetadataModelErrorResponse,
    MetadataModelResponse,
    MetadataServerResponse,
)
from pydantic import ValidationError

DATA = {
    "BOOL": [True, False],
    "UINT8": [0, 255],
    "UINT16": [0, 65535],
    "UINT32": [0, 4294967295],
    "UINT64": [0, 18446744073709551615],
    "INT8": [-128, 127],
    "INT16": [-32768, 32767],
    "INT32": [-2147483648, 2147483647],
    "INT64": [-9223372036854775808, 9223372036854775807],
    "FP16": [0.5, -2.0],
    "FP32": [0.25, 1.5],
    "FP64": [1e300, -1e-300],
    "BYTES": ["ab", ""],
}


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def infer_cases() -> dict[str, tuple[str, dict[str, Any]]]:
    cases: dict[str, tuple[str, dict[str, Any]]] = {}
    for datatype, data in DATA.items():
        for shape in ([2], [1, 2], [2, 1, 1]):
            tensor = {"name": "x", "datatype": datatype, "shape": shape, "data": data}
            cases[f"{datatype}{shape}"] = ("echo", {"inputs": [tensor]})
    batch = {"name": "x", "datatype": "FP32", "shape": [500, 2], "data": [0.5] * 1000}
    cases["batch_500"] = ("echo", {"inputs": [batch]})
    two = [
        {"name": "a", "datatype": "FP32", "shape": [2], "data": [1.0, 2.0]},
        {"name": "b", "datatype": "INT64", "shape": [2], "data": [3, 4]},
    ]
    cases["multi"] = ("echo", {"inputs": two})
    cases["requested"] = ("echo", {"inputs": two, "outputs": [{"name": "b"}]})
    rows = {"name": "input-0", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3, 4]}
    cases["spec_named_output"] = ("sum", {"inputs": [rows], "outputs": [{"name": "total"}]})
    return cases


def decoded(response: InferenceResponse) -> dict[str, Any]:
    out = {}
    for output in response.outputs:
        array = NumpyCodec.decode_output(output)
        values = [v.decode() if isinstance(v, bytes) else v for v in array.reshape(-1).tolist()]
        datatype = getattr(output.datatype, "value", output.datatype)  # use_enum_values
        out[output.name] = [datatype, list(array.shape), values]
    return out


def check(model: type[Any], body: Any) -> dict[str, Any]:
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        return {"valid": False, "why": str(exc)[:2000]}
    result: dict[str, Any] = {"valid": True}
    if isinstance(parsed, InferenceResponse):
        result["outputs"] = decoded(parsed)
    return result


def main(port: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    status, body = call(port, "GET", "/v2")
    results["server_metadata"] = {"status": status, **check(MetadataServerResponse, body)}
    for model in ("echo", "sum"):
        status, body = call(port, "GET", f"/v2/models/{model}")
        results[f"metadata_{model}"] = {"status": status, **check(MetadataModelResponse, body)}
    status, body = call(port, "GET", "/v2/models/nope")
    results["metadata_missing"] = {"status": status, **check(MetadataModelErrorResponse, body)}
    for name, (model, request) in infer_cases().items():
        status, body = call(port, "POST", f"/v2/models/{model}/infer", request)
        results[name] = {"status": status, **check(InferenceResponse, body)}
    bad = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [3], "data": [1.0]}]}
    status, body = call(port, "POST", "/v2/models/echo/infer", bad)
    results["bad_shape"] = {"status": status, **check(MetadataModelErrorResponse, body)}
    return results


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
