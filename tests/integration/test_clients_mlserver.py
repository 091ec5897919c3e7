"""mlserver's pydantic types validate every OIP body a real ``nuserve serve`` answers (each
datatype, shape, a batch, several inputs, requested outputs, metadata, errors); mlserver runs in
its own venv (``tests/clients/venvs.py``), the checks in ``tests/clients/mlserver_validate.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clients.venvs import run_script
from tests.serve_models import serve, write_function_yaml

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).resolve().parents[1] / "clients" / "mlserver_validate.py"
SPEC = """model_file: model.txt
inputs: [{name: a, value_type: float}, {name: b, value_type: float}]
outputs: [{name: total, value_type: int}]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("mlserver")
    (tmp / "model").mkdir()
    (tmp / "model" / "model.txt").write_text("sum")
    (tmp / "model" / "model_spec.yaml").write_text(SPEC)
    spec = write_function_yaml(
        tmp / "function.yaml",
        {"echo": "tests.serve_models.CountingEcho", "sum": "tests.serve_models.SpecModel"},
        model_args={"sum": {"model_path": str(tmp / "model")}},
    )
    with serve(spec, workers=1) as server:
        yield json.loads(run_script("mlserver-1.7", SCRIPT, str(server.port)))


def test_every_body_validates(results: dict[str, Any]) -> None:
    invalid = {name: r["why"] for name, r in results.items() if not r["valid"]}
    assert not invalid
    assert len(results) > 40


def test_metadata_and_errors(results: dict[str, Any]) -> None:
    assert results["server_metadata"]["status"] == 200
    assert results["metadata_sum"]["status"] == 200
    assert results["metadata_missing"]["status"] == 404
    assert results["bad_shape"]["status"] == 400


def test_decoded_values(results: dict[str, Any]) -> None:
    assert results["INT64[1, 2]"]["outputs"] == {
        "output-0": ["INT64", [1, 2], [-(2**63), 2**63 - 1]]
    }
    assert results["BYTES[2]"]["outputs"] == {"output-0": ["BYTES", [2], ["ab", ""]]}
    assert results["UINT64[2, 1, 1]"]["outputs"]["output-0"][:2] == ["UINT64", [2, 1, 1]]
    assert results["batch_500"]["outputs"]["output-0"][:2] == ["FP32", [500, 2]]
    assert results["requested"]["outputs"] == {"b": ["INT64", [2], [3, 4]]}
    assert results["spec_named_output"]["outputs"] == {"total": ["INT64", [2], [3, 7]]}
