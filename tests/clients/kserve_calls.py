"""Calls kserve's InferenceRESTClient (v1 and v2) makes to a server; run in kserve's venv.

Usage: python kserve_calls.py PORT [GRPC_PORT]. Prints one JSON object: call name → ``{"value": ...}``
(numpy arrays as lists with their dtype) or ``{"status": ..., "error": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import numpy as np
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput


def arrays(response: Any) -> dict[str, Any]:
    return {
        o.name: {"datatype": o.datatype, "shape": list(o.shape), "data": _plain(o.as_numpy())}
        for o in response.outputs
    }


def _plain(array: Any) -> Any:
    return [v.decode() if isinstance(v, bytes) else v for v in array.reshape(-1).tolist()]


def tensor(name: str, array: Any, datatype: str, binary: bool) -> InferInput:
    t = InferInput(name, list(array.shape), datatype)
    t.set_data_from_numpy(array, binary_data=binary)
    return t


async def grpc_calls(port: int) -> dict[str, Any]:
    """kserve's InferenceGRPCClient: health, raw tensors, an error's code and message."""
    client = InferenceGRPCClient(f"127.0.0.1:{port}", retries=0)
    rows = np.arange(6, dtype=np.float32).reshape(2, 3)
    out: dict[str, Any] = {
        "grpc_live": {"value": await client.is_server_live()},
        "grpc_ready": {"value": await client.is_server_ready()},
        "grpc_model_ready": {"value": await client.is_model_ready("sum")},
    }
    request = InferRequest("echo", [tensor("x", rows, "FP32", True)])
    out["grpc_fp32"] = {"value": arrays(await client.infer(request))}
    words = np.array([b"ab", b""], dtype=np.object_)
    out["grpc_bytes"] = {
        "value": arrays(
            await client.infer(InferRequest("echo", [tensor("s", words, "BYTES", True)]))
        )
    }
    try:
        await client.infer(InferRequest("nope", [tensor("x", rows, "FP32", True)]))
    except grpc.aio.AioRpcError as exc:
        out["grpc_missing"] = {"status": exc.code().name, "error": exc.details()}
    await client.close()
    return out


async def main(port: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    v1 = InferenceRESTClient(RESTConfig(protocol="v1", timeout=30))
    v2 = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
    rows = np.arange(6, dtype=np.float32).reshape(2, 3)
    many = np.random.default_rng(1).random((1000, 4), dtype=np.float32)
    words = np.array([b"ab", b"", "\u00fc".encode()], dtype=np.object_)
    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "v1_live": lambda: v1.is_server_live(base),
        "v1_model_ready": lambda: v1.is_model_ready(base, "echo"),
        "v1_instances": lambda: v1.infer(base, {"instances": [[1, 2]]}, model_name="echo"),
        "v1_inputs": lambda: v1.infer(base, {"inputs": [[1, 2]]}, model_name="echo"),
        "v1_explain_missing": lambda: v1.explain(base, "echo", {"instances": [[1]]}),
        "v1_unknown_model": lambda: v1.infer(base, {"instances": [[1]]}, model_name="nope"),
        "v2_live": lambda: v2.is_server_live(base),
        "v2_ready": lambda: v2.is_server_ready(base),
        "v2_model_ready": lambda: v2.is_model_ready(base, "sum"),
    }
    for binary in (True, False):
        kind = "binary" if binary else "json"

        def req(inputs: list[InferInput], outputs: list[RequestedOutput] | None = None) -> Any:
            return InferRequest("echo", inputs, request_outputs=outputs)

        calls[f"v2_fp32_{kind}"] = lambda b=binary: v2.infer(
            base, req([tensor("x", rows, "FP32", b)]), model_name="echo"
        )
        calls[f"v2_multi_{kind}"] = lambda b=binary: v2.infer(
            base,
            req([tensor("x", rows, "FP32", b), tensor("ids", np.arange(3), "INT64", b)]),
            model_name="echo",
        )
        calls[f"v2_bytes_{kind}"] = lambda b=binary: v2.infer(
            base, req([tensor("s", words, "BYTES", b)]), model_name="echo"
        )
        calls[f"v2_rows_{kind}"] = lambda b=binary: v2.infer(
            base, req([tensor("x", many, "FP32", b)]), model_name="echo"
        )
        calls[f"v2_requested_{kind}"] = lambda b=binary: v2.infer(
            base,
            req(
                [tensor("x", rows, "FP32", b), tensor("ids", np.arange(3), "INT64", b)],
                [RequestedOutput("ids", parameters={"binary_data": b})],
            ),
            model_name="echo",
        )
    calls["v2_bad_datatype"] = lambda: v2.infer(
        base,
        InferRequest(
            "sum", [tensor("input-0", np.array([[b"a", b"b"]], dtype=np.object_), "BYTES", True)]
        ),
        model_name="sum",
    )
    results: dict[str, Any] = {}
    for name, call in calls.items():
        try:
            value = await call()
        except httpx.HTTPStatusError as exc:
            results[name] = {"status": exc.response.status_code, "error": exc.response.text}
            continue
        if hasattr(value, "outputs"):
            value = arrays(value)
        results[name] = {"value": value}
    many_back = results.get("v2_rows_binary", {}).get("value", {}).get("output-0", {})
    if many_back:  # 4,000 floats: compare here, send back a yes or no
        many_back["data"] = bool(np.allclose(np.asarray(many_back["data"]), many.reshape(-1)))
    many_json = results.get("v2_rows_json", {}).get("value", {}).get("output-0", {})
    if many_json:
        many_json["data"] = bool(np.allclose(np.asarray(many_json["data"]), many.reshape(-1)))
    await v1.close()
    await v2.close()
    return results


async def everything(port: int, grpc_port: int | None) -> dict[str, Any]:
    results = await main(port)
    if grpc_port is not None:
        results |= await grpc_calls(grpc_port)
    return results


if __name__ == "__main__":
    grpc_port = int(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps(asyncio.run(asyncio.wait_for(everything(int(sys.argv[1]), grpc_port), 120))))
