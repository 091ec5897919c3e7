"""kserve's InferenceRESTClient (v1 and v2) and InferenceGRPCClient against a real ``nuserve serve``: the client
runs in its own venv (``tests/clients/venvs.py``), the calls in ``tests/clients/kserve_calls.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.venvs import run_script
from tests.serve_models import free_port, serve, write_function_yaml

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[1] / "clients" / "kserve_calls.py"
SPEC = """model_file: model.txt
inputs: [{name: a, value_type: float}, {name: b, value_type: float}]
outputs: [{name: total, value_type: int}]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("kserve")
    (tmp / "model").mkdir()
    (tmp / "model" / "model.txt").write_text("sum")
    (tmp / "model" / "model_spec.yaml").write_text(SPEC)
    spec = write_function_yaml(
        tmp / "function.yaml",
        {"echo": "tests.serve_models.CountingEcho", "sum": "tests.serve_models.SpecModel"},
        model_args={"sum": {"model_path": str(tmp / "model")}},
    )
    grpc_port = free_port()
    with serve(spec, workers=1, args=["--grpc-port", str(grpc_port)]) as server:
        yield json.loads(run_script("kserve-0.21", SCRIPT, str(server.port), str(grpc_port)))


def value(results: dict[str, Any], call: str) -> Any:
    assert "value" in results[call], results[call]
    return results[call]["value"]


def test_v1_liveness_readiness_instances_and_inputs(results: dict[str, Any]) -> None:
    assert value(results, "v1_live") is True
    assert value(results, "v1_model_ready") is True
    assert value(results, "v1_instances") == {"predictions": [[1, 2]]}
    assert value(results, "v1_inputs") == {"predictions": [[1, 2]]}
    assert results["v1_explain_missing"]["status"] == 404
    assert "does not explain" in results["v1_explain_missing"]["error"]
    assert results["v1_unknown_model"]["status"] == 404


def test_v2_health(results: dict[str, Any]) -> None:
    assert value(results, "v2_live") is True
    assert value(results, "v2_ready") is True
    assert value(results, "v2_model_ready") is True


@pytest.mark.parametrize("kind", ["binary", "json"])
def test_v2_tensors(results: dict[str, Any], kind: str) -> None:
    fp32 = value(results, f"v2_fp32_{kind}")["output-0"]
    assert fp32 == {"datatype": "FP32", "shape": [2, 3], "data": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}
    multi = value(results, f"v2_multi_{kind}")
    assert multi["ids"] == {"datatype": "INT64", "shape": [3], "data": [0, 1, 2]}
    assert multi["x"]["shape"] == [2, 3]
    words = value(results, f"v2_bytes_{kind}")["output-0"]
    assert words == {"datatype": "BYTES", "shape": [3], "data": ["ab", "", "\u00fc"]}
    rows = value(results, f"v2_rows_{kind}")["output-0"]
    assert rows == {"datatype": "FP32", "shape": [1000, 4], "data": True}
    assert list(value(results, f"v2_requested_{kind}")) == ["ids"]


def test_v2_errors_name_the_input(results: dict[str, Any]) -> None:
    bad = results["v2_bad_datatype"]
    assert bad["status"] == 400
    assert "input 'input-0': model 'sum' does not accept datatype BYTES" in bad["error"]


def test_the_grpc_client(results: dict[str, Any]) -> None:
    assert value(results, "grpc_live") is True
    assert value(results, "grpc_ready") is True
    assert value(results, "grpc_model_ready") is True
    fp32 = value(results, "grpc_fp32")["output-0"]
    assert fp32 == {"datatype": "FP32", "shape": [2, 3], "data": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}
    assert value(results, "grpc_bytes")["output-0"]["data"] == ["ab", ""]
    assert results["grpc_missing"]["status"] == "NOT_FOUND"
    assert "model 'nope' not found" in results["grpc_missing"]["error"]
