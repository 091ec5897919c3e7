"""tritonclient (http, sync and aio) against a real ``nuserve serve`` on 127.0.0.1: the calls
users make, binary tensors (its default) and JSON, every datatype, requested outputs, errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import tritonclient.http as httpclient
import tritonclient.http.aio as aioclient
from tritonclient.utils import InferenceServerException

from tests.serve_models import Served, serve, write_function_yaml

pytestmark = pytest.mark.integration

SPEC = """model_file: model.txt
inputs:
  - {name: a, value_type: float, dims: [1]}
  - {name: b, value_type: float, dims: [1]}
outputs: [{name: total, value_type: int, dims: [1]}]
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("triton")
    model_dir = tmp / "model"
    model_dir.mkdir()
    (model_dir / "model.txt").write_text("sum")
    (model_dir / "model_spec.yaml").write_text(SPEC)
    spec = write_function_yaml(
        tmp / "function.yaml",
        {"echo": "tests.serve_models.CountingEcho", "sum": "tests.serve_models.SpecModel"},
        max_body_size=2 * 1024 * 1024,
        model_args={"sum": {"model_path": str(model_dir)}},
    )
    with serve(spec, workers=1) as server:
        yield server


@pytest.fixture
def client(served: Served) -> Iterator[httpclient.InferenceServerClient]:
    client = httpclient.InferenceServerClient(f"127.0.0.1:{served.port}", network_timeout=30)
    yield client
    client.close()


DATATYPES = [
    ("BOOL", np.array([[True, False]])),
    ("UINT8", np.arange(6, dtype=np.uint8).reshape(2, 3)),
    ("UINT16", np.arange(3, dtype=np.uint16)),
    ("UINT32", np.arange(3, dtype=np.uint32)),
    ("UINT64", np.array([2**64 - 1], dtype=np.uint64)),
    ("INT8", np.array([-128, 127], dtype=np.int8)),
    ("INT16", np.array([-300, 300], dtype=np.int16)),
    ("INT32", np.arange(-2, 2, dtype=np.int32)),
    ("INT64", np.array([[-(2**63), 2**63 - 1]], dtype=np.int64)),
    ("FP16", np.array([0.5, -2.0], dtype=np.float16)),
    ("FP32", np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 2, 2)),
    ("FP64", np.array([1e300, -1e-300])),
    ("BYTES", np.array([b"ab", b"", "ü".encode()], dtype=np.object_)),
]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize(("datatype", "array"), DATATYPES, ids=[d for d, _ in DATATYPES])
def test_every_datatype_round_trips(
    client: httpclient.InferenceServerClient, datatype: str, array: Any, binary: bool
) -> None:
    tensor = httpclient.InferInput("x", list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary)
    output = httpclient.InferRequestedOutput("output-0", binary_data=binary)
    result = client.infer("echo", [tensor], outputs=[output])
    got = result.as_numpy("output-0")
    assert got is not None and got.shape == array.shape
    values = got.tolist()
    if datatype == "BYTES" and not binary:  # tritonclient reads JSON strings as str
        values = [v.encode() for v in values]
    assert values == array.tolist()
    assert result.get_output("output-0")["datatype"] == datatype


def test_the_default_call_multi_input_and_a_thousand_rows(client: httpclient.InferenceServerClient) -> None:
    rows = np.random.default_rng(0).random((1000, 4), dtype=np.float32)
    ids = np.arange(1000, dtype=np.int64)
    x = httpclient.InferInput("x", list(rows.shape), "FP32")
    x.set_data_from_numpy(rows)  # binary, the default
    i = httpclient.InferInput("ids", [1000], "INT64")
    i.set_data_from_numpy(ids)
    result = client.infer("echo", [x, i])
    assert np.array_equal(result.as_numpy("x"), rows)
    assert np.array_equal(result.as_numpy("ids"), ids)
    only = client.infer("echo", [x, i], outputs=[httpclient.InferRequestedOutput("ids")])
    assert only.as_numpy("x") is None and np.array_equal(only.as_numpy("ids"), ids)


def test_metadata_names_what_inference_answers(client: httpclient.InferenceServerClient) -> None:
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready("sum")
    meta = client.get_model_metadata("sum")
    assert [(t["name"], t["datatype"]) for t in meta["inputs"]] == [("a", "FP32"), ("b", "FP32")]
    assert [(t["name"], t["datatype"]) for t in meta["outputs"]] == [("total", "INT64")]
    x = httpclient.InferInput("input-0", [2, 2], "FP32")
    x.set_data_from_numpy(np.array([[1, 2], [3, 4]], dtype=np.float32))
    wanted = [httpclient.InferRequestedOutput(t["name"]) for t in meta["outputs"]]
    result = client.infer("sum", [x], outputs=wanted)
    assert result.as_numpy("total").tolist() == [3, 7]
    assert result.get_output("total")["datatype"] == "INT64"


def test_errors_reach_the_client_with_the_message(client: httpclient.InferenceServerClient) -> None:
    text = httpclient.InferInput("input-0", [1, 2], "BYTES")
    text.set_data_from_numpy(np.array([[b"a", b"b"]], dtype=np.object_))
    with pytest.raises(InferenceServerException, match="does not accept datatype BYTES") as err:
        client.infer("sum", [text])
    assert err.value.status() == "400"
    x = httpclient.InferInput("x", [1], "FP32")
    x.set_data_from_numpy(np.ones(1, np.float32))
    with pytest.raises(InferenceServerException, match="requested output 'nope'"):
        client.infer("echo", [x], outputs=[httpclient.InferRequestedOutput("nope")])
    with pytest.raises(InferenceServerException, match="not found"):
        client.infer("missing", [x])
    big = httpclient.InferInput("x", [600_000], "FP32")
    big.set_data_from_numpy(np.ones(600_000, np.float32))
    with pytest.raises(InferenceServerException, match="over the limit"):
        client.infer("echo", [big])
    assert client.infer("echo", [x]).as_numpy("output-0").tolist() == [1.0]  # still serving


def test_the_aio_client(served: Served) -> None:
    async def calls() -> list[Any]:
        client = aioclient.InferenceServerClient(f"127.0.0.1:{served.port}")
        try:
            x = aioclient.InferInput("x", [2, 3], "FP32")
            x.set_data_from_numpy(np.arange(6, dtype=np.float32).reshape(2, 3))
            outputs = [aioclient.InferRequestedOutput("output-0", binary_data=True)]
            results = await asyncio.gather(*(client.infer("echo", [x], outputs=outputs) for _ in range(4)))
            meta = await client.get_model_metadata("sum")
            return [await client.is_server_live(), meta, *(r.as_numpy("output-0") for r in results)]
        finally:
            await client.close()

    live, meta, *arrays = asyncio.run(asyncio.wait_for(calls(), 60))
    assert live is True and meta["outputs"][0]["name"] == "total"
    assert [a.tolist() for a in arrays] == [[[0, 1, 2], [3, 4, 5]]] * 4
