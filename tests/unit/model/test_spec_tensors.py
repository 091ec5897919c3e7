"""A model spec's tensors as OIP clients see them: metadata with OIP datatypes, the output
named as metadata names it, requested outputs honoured, datatypes the spec refuses a 400."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import nuserve
from nuserve.protocols.datatypes import OIP_DATATYPES, oip_datatype


class Iris(nuserve.V2ModelServer):
    """Four float features in, one int label out (as examples/iris's spec says)."""

    def load(self) -> None:
        self.get_model(".pkl")

    def predict(self, request: dict[str, Any]) -> Any:
        return [int(sum(row)) % 3 for row in request["inputs"].tolist()]


SPEC = """model_file: m.pkl
inputs:
  - {name: sepal_length, value_type: float, dims: [1]}
  - {name: sepal_width, value_type: float, dims: [1]}
  - {name: petal_length, value_type: double, dims: [1]}
  - {name: petal_width, value_type: int, dims: [1]}
outputs: [{name: label, value_type: int, dims: [1]}]
"""


@pytest.fixture
def server(tmp_path: Path) -> Any:
    (tmp_path / "m.pkl").write_bytes(b"x")
    (tmp_path / "model_spec.yaml").write_text(SPEC)
    fn = nuserve.new_function("spec")
    fn.add_model("iris", class_name=Iris, model_path=str(tmp_path))
    return fn.to_mock_server(namespace={"Iris": Iris})


def tensor(datatype: str = "FP32", name: str = "input-0") -> dict[str, Any]:
    data: list[Any] = [5.1, 3.5, 1.4, 0.2]
    return {"name": name, "datatype": datatype, "shape": [1, 4], "data": data}


@pytest.mark.parametrize(
    ("value_type", "datatype"),
    [("float", "FP32"), ("double", "FP64"), ("int", "INT64"), ("int32", "INT32"),
     ("str", "BYTES"), ("bool", "BOOL"), ("float16", "FP16"), ("FP32", "FP32"),
     ("bfloat16", "BF16"), ("datetime", "BYTES")],
)
def test_value_types_map_to_oip_datatypes(value_type: str, datatype: str) -> None:
    assert oip_datatype(value_type) == datatype
    assert datatype in OIP_DATATYPES


def test_metadata_names_oip_datatypes_and_the_output_inference_answers(server: Any) -> None:
    meta = server.test("/v2/models/iris", method="GET")
    assert [(t["name"], t["datatype"]) for t in meta["inputs"]] == [
        ("sepal_length", "FP32"), ("sepal_width", "FP32"),
        ("petal_length", "FP64"), ("petal_width", "INT64"),
    ]
    assert meta["outputs"] == [{"name": "label", "datatype": "INT64", "shape": [1]}]
    out = server.test("/v2/models/iris/infer", {"inputs": [tensor()]})
    assert [o["name"] for o in out["outputs"]] == [o["name"] for o in meta["outputs"]]


def test_the_output_metadata_names_can_be_requested(server: Any) -> None:
    body = {"inputs": [tensor()], "outputs": [{"name": "label"}]}
    out = server.test("/v2/models/iris/infer", body)
    assert out["outputs"] == [{"name": "label", "shape": [1], "datatype": "INT64", "data": [1]}]
    err = server.test(
        "/v2/models/iris/infer", {"inputs": [tensor()], "outputs": [{"name": "output-0"}]},
        silent=True, get_body=False,
    )
    assert err.status_code == 400
    assert err.body["error"] == "requested output 'output-0' is not produced by the model (available: 'label')"


def test_a_datatype_the_spec_does_not_take_is_a_400_naming_the_input(server: Any) -> None:
    text = {"name": "input-0", "datatype": "BYTES", "shape": [1, 4], "data": ["a", "b", "c", "d"]}
    err = server.test("/v2/models/iris/infer", {"inputs": [text]}, silent=True, get_body=False)
    assert err.status_code == 400
    assert err.body["error"] == (
        "input 'input-0': model 'iris' does not accept datatype BYTES (its spec's inputs are "
        "FP32, FP64, INT64); send one of BF16, BOOL, FP16, FP32, FP64, INT16, INT32, INT64, INT8, "
        "UINT16, UINT32, UINT64, UINT8"
    )
    named = {"name": "sepal_length", "datatype": "BOOL", "shape": [1], "data": [True]}
    err = server.test("/v2/models/iris/infer", {"inputs": [named]}, silent=True, get_body=False)
    assert err.body["error"].startswith(
        "input 'sepal_length': model 'iris' does not accept datatype BOOL (its spec types "
        "'sepal_length' as FP32)"
    )
    ints = {"name": "input-0", "datatype": "INT64", "shape": [1, 4], "data": [5, 3, 1, 0]}
    assert server.test("/v2/models/iris/infer", {"inputs": [ints]})["outputs"][0]["data"] == [0]
