"""The OIP gRPC service of ``nuserve serve --grpc-port`` with tritonclient's gRPC client
(sync and aio), on two workers sharing the port: health, metadata, raw and typed tensors,
requested outputs, errors as status codes, a message over the limit, metrics."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as aioclient
from tritonclient.grpc import service_pb2
from tritonclient.utils import InferenceServerException

from tests.serve_models import Served, free_port, request, serve, write_function_yaml

pytestmark = pytest.mark.integration
SPEC = """model_file: model.txt
inputs: [{name: a, value_type: float}, {name: b, value_type: float}]
outputs: [{name: total, value_type: int}]
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, int]]:
    tmp = tmp_path_factory.mktemp("grpc")
    (tmp / "model").mkdir()
    (tmp / "model" / "model.txt").write_text("sum")
    (tmp / "model" / "model_spec.yaml").write_text(SPEC)
    spec = write_function_yaml(
        tmp / "function.yaml",
        {"echo": "tests.serve_models.CountingEcho", "sum": "tests.serve_models.SpecModel"},
        max_body_size=1024 * 1024,
        model_args={"sum": {"model_path": str(tmp / "model")}},
    )
    port = free_port()
    with serve(spec, workers=2, args=["--grpc-port", str(port)]) as server:
        yield server, port


@pytest.fixture
def client(served: tuple[Served, int]) -> Iterator[grpcclient.InferenceServerClient]:
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{served[1]}")
    yield client
    client.close()


DATATYPES = [
    ("BOOL", np.array([True, False])),
    ("UINT8", np.arange(4, dtype=np.uint8).reshape(2, 2)),
    ("UINT64", np.array([2**64 - 1], dtype=np.uint64)),
    ("INT8", np.array([-128, 127], dtype=np.int8)),
    ("INT32", np.arange(-2, 2, dtype=np.int32)),
    ("INT64", np.array([-(2**63), 2**63 - 1])),
    ("FP16", np.array([0.5, -2.0], dtype=np.float16)),
    ("FP32", np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)),
    ("FP64", np.array([1e300])),
    ("BYTES", np.array([b"ab", b"", "\u00fc".encode()], dtype=np.object_)),
]


@pytest.mark.parametrize(("datatype", "array"), DATATYPES, ids=[d for d, _ in DATATYPES])
def test_raw_tensors_of_every_datatype(
    client: grpcclient.InferenceServerClient, datatype: str, array: Any
) -> None:
    tensor = grpcclient.InferInput("x", list(array.shape), datatype)
    tensor.set_data_from_numpy(array)  # raw_input_contents
    result = client.infer("echo", [tensor])
    assert result.as_numpy("output-0").tolist() == array.tolist()
    assert result.get_output("output-0").datatype == datatype


def test_health_metadata_and_requested_outputs(client: grpcclient.InferenceServerClient) -> None:
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("sum")
    assert client.get_server_metadata().name == "nuserve"
    meta = client.get_model_metadata("sum")
    assert [(t.name, t.datatype) for t in meta.inputs] == [("a", "FP32"), ("b", "FP32")]
    assert [(t.name, t.datatype) for t in meta.outputs] == [("total", "INT64")]
    x = grpcclient.InferInput("input-0", [2, 2], "FP32")
    x.set_data_from_numpy(np.array([[1, 2], [3, 4]], dtype=np.float32))
    result = client.infer("sum", [x], outputs=[grpcclient.InferRequestedOutput("total")])
    assert result.as_numpy("total").tolist() == [3, 7]
    a = grpcclient.InferInput("a", [2], "FP32")
    a.set_data_from_numpy(np.ones(2, np.float32))
    b = grpcclient.InferInput("b", [1], "INT64")
    b.set_data_from_numpy(np.array([5]))
    only = client.infer("echo", [a, b], outputs=[grpcclient.InferRequestedOutput("b")])
    assert only.as_numpy("a") is None and only.as_numpy("b").tolist() == [5]


def test_typed_contents(served: tuple[Served, int]) -> None:
    """Clients that fill ``contents`` (not raw bytes) are answered too."""
    with grpc.insecure_channel(f"127.0.0.1:{served[1]}") as channel:
        stub = grpcclient.service_pb2_grpc.GRPCInferenceServiceStub(channel)
        req = service_pb2.ModelInferRequest(model_name="echo", id="typed-1")
        tensor = req.inputs.add(name="x", datatype="INT32", shape=[3])
        tensor.contents.int_contents.extend([1, -2, 3])
        answer = stub.ModelInfer(req, timeout=10)
        assert answer.id == "typed-1"
        assert np.frombuffer(answer.raw_output_contents[0], "<i4").tolist() == [1, -2, 3]
        bad = service_pb2.ModelInferRequest(model_name="echo")
        over = bad.inputs.add(name="x", datatype="INT8", shape=[1])
        over.contents.int_contents.extend([300])
        with pytest.raises(grpc.RpcError) as err:
            stub.ModelInfer(bad, timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "value 300 does not fit datatype INT8" in err.value.details()


def test_errors_are_status_codes_with_the_http_message(
    client: grpcclient.InferenceServerClient, served: tuple[Served, int]
) -> None:
    x = grpcclient.InferInput("x", [1], "FP32")
    x.set_data_from_numpy(np.ones(1, np.float32))
    with pytest.raises(InferenceServerException) as err:
        client.infer("missing", [x])
    assert err.value.status() == "StatusCode.NOT_FOUND"
    assert "model 'missing' not found (models: echo, sum)" in err.value.message()
    text = grpcclient.InferInput("input-0", [1, 2], "BYTES")
    text.set_data_from_numpy(np.array([[b"a", b"b"]], dtype=np.object_))
    with pytest.raises(InferenceServerException) as err:
        client.infer("sum", [text])
    assert err.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "input 'input-0': model 'sum' does not accept datatype BYTES" in err.value.message()
    wrong = grpcclient.InferInput("x", [3], "FP32")
    wrong._raw_content = b"\x00" * 8  # 2 values for a shape of 3
    with pytest.raises(InferenceServerException) as err:
        client.infer("echo", [wrong])
    assert err.value.status() == "StatusCode.INVALID_ARGUMENT"
    assert "binary_data_size is 8 bytes but shape [3] of FP32 needs 12" in err.value.message()
    big = grpcclient.InferInput("x", [400_000], "FP32")
    big.set_data_from_numpy(np.ones(400_000, np.float32))
    with pytest.raises(InferenceServerException) as err:
        client.infer("echo", [big])
    assert err.value.status() == "StatusCode.RESOURCE_EXHAUSTED"
    assert client.infer("echo", [x]).as_numpy("output-0").tolist() == [1.0]  # still serving
    # the call may have gone to the other worker, whose snapshot is written once a second
    deadline = time.monotonic() + 5
    while True:
        status, body = request(served[0].port, "GET", "/metrics")
        found = re.search(r'^nuserve_requests_total\{model="echo",op="infer"\} (\d+)$', body.decode(), re.M)
        if found is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and found is not None and int(found.group(1)) >= 1


def test_the_aio_client(served: tuple[Served, int]) -> None:
    async def calls() -> list[Any]:
        client = aioclient.InferenceServerClient(f"127.0.0.1:{served[1]}")
        try:
            x = aioclient.InferInput("x", [2, 2], "FP64")
            x.set_data_from_numpy(np.eye(2))
            results = await asyncio.gather(*(client.infer("echo", [x]) for _ in range(8)))
            return [await client.is_server_live(), *(r.as_numpy("output-0") for r in results)]
        finally:
            await client.close()

    live, *arrays = asyncio.run(asyncio.wait_for(calls(), 60))
    assert live is True
    assert [a.tolist() for a in arrays] == [[[1.0, 0.0], [0.0, 1.0]]] * 8


def test_the_port_can_come_from_the_function_yaml(tmp_path) -> None:
    """``NUSERVE_GRPC_PORT`` in the function.yaml's env serves gRPC without the option."""
    port = free_port()
    spec = write_function_yaml(
        tmp_path / "function.yaml",
        {"echo": "tests.serve_models.CountingEcho"},
        env={"NUSERVE_GRPC_PORT": str(port)},
    )
    with serve(spec, workers=1):
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
        assert client.is_model_ready("echo")
        client.close()
