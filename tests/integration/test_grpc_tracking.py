"""A gRPC call is tracked as an HTTP request is: the record reaches the function's stream."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from tests.serve_models import free_port, serve, write_function_yaml

pytestmark = pytest.mark.integration


def test_a_grpc_call_is_tracked(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    spec = write_function_yaml(
        tmp_path / "function.yaml",
        {"echo": "tests.serve_models.CountingEcho"},
        tracking=f"file://{records}",
    )
    port = free_port()
    with serve(spec, workers=1, args=["--grpc-port", str(port)]):
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
        x = grpcclient.InferInput("x", [2], "INT64")
        x.set_data_from_numpy(np.array([4, 2]))
        assert client.infer("echo", [x], request_id="tracked-by-grpc").as_numpy(
            "output-0"
        ).tolist() == [4, 2]
        client.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
            records.exists() and "tracked-by-grpc" in records.read_text()
        ):
            time.sleep(0.2)
    assert records.exists(), "no tracking record was written"
    text = records.read_text()
    assert "tracked-by-grpc" in text and "echo" in text
