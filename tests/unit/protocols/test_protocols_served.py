"""The three body protocols through the server: detected and answered in kind."""

from __future__ import annotations

import numpy as np
import pytest

import nuserve
from nuserve.protocols.oip import DATATYPES, encode_tensor


class Typed(nuserve.V2ModelServer):
    """Returns its inputs, checking the model sees arrays of the declared dtype and shape."""

    def load(self):
        self.model = "typed"

    def predict(self, request):
        inputs = request["inputs"]
        if isinstance(inputs, dict):
            assert all(isinstance(v, np.ndarray) for v in inputs.values())
        elif request.get("oip"):
            assert isinstance(inputs, np.ndarray)
        return inputs


@pytest.fixture(scope="module")
def server():
    fn = nuserve.new_function("proto")
    fn.add_model("t:1", class_name=Typed)
    return fn.to_mock_server()


SAMPLES = {
    "BOOL": [[True, False], [False, True]],
    "UINT8": [[0, 255], [1, 2]],
    "UINT16": [[0, 65535], [3, 4]],
    "UINT32": [[0, 2**32 - 1], [5, 6]],
    "UINT64": [[0, 2**64 - 1], [7, 8]],
    "INT8": [[-128, 127], [0, 1]],
    "INT16": [[-(2**15), 2**15 - 1], [0, 1]],
    "INT32": [[-(2**31), 2**31 - 1], [0, 1]],
    "INT64": [[-(2**63), 2**63 - 1], [0, 1]],
    "FP16": [[0.5, -1.25], [2.0, 65504.0]],
    "FP32": [[0.5, -1.25], [3.5, 1024.0]],
    "FP64": [[0.1, -1e300], [2.2, 3.3]],
    "BYTES": [["a", "héllo"], ["", "z"]],
}


@pytest.mark.parametrize("datatype", sorted(DATATYPES))
def test_oip_round_trips_every_datatype(server, datatype):
    data = SAMPLES[datatype]
    tensor = {"name": "x", "shape": [2, 2], "datatype": datatype, "data": data}
    body = {"id": "r1", "oip": True, "inputs": [tensor]}
    out = server.test("/v2/models/t/infer", body)
    assert out["id"] == "r1" and out["model_name"] == "t" and out["model_version"] == "1"
    [tensor] = out["outputs"]
    assert tensor["shape"] == [2, 2]
    assert tensor["datatype"] == datatype
    flat = [v for row in data for v in row]
    assert tensor["data"] == flat
    flat_body = {"inputs": [{"name": "x", "shape": [2, 2], "datatype": datatype, "data": flat}]}
    assert server.test("/v2/models/t/infer", flat_body)["outputs"] == out["outputs"]


def test_oip_several_tensors_and_requested_outputs(server):
    body = {
        "inputs": [
            encode_tensor("a", np.arange(6, dtype=np.float32).reshape(2, 3)),
            encode_tensor("b", np.array([1, 2], dtype=np.int32)),
        ],
        "outputs": [{"name": "b"}],
    }
    out = server.test("/v2/models/t/infer", body)
    assert out["outputs"] == [{"name": "b", "shape": [2], "datatype": "INT32", "data": [1, 2]}]
    body["outputs"] = [{"name": "c"}]
    err = server.test("/v2/models/t/infer", body, silent=True, get_body=False)
    assert err.status_code == 400
    assert "'c'" in err.body["error"]


@pytest.mark.parametrize(
    ("tensor", "needle"),
    [
        ({"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2]}, "shape [2, 3]"),
        ({"name": "x", "shape": [1], "datatype": "FLOAT", "data": [1]}, "'FLOAT'"),
        ({"name": "x", "shape": [1], "datatype": "UINT8", "data": [300]}, "300"),
        ({"name": "x", "shape": [1], "datatype": "INT32", "data": ["a"]}, "'a'"),
    ],
)
def test_oip_bad_tensors_are_400_naming_the_value(server, tensor, needle):
    resp = server.test("/v2/models/t/infer", {"inputs": [tensor]}, silent=True, get_body=False)
    assert resp.status_code == 400
    assert needle in resp.body["error"]
    assert server.test("/v2/models/t/infer", {"inputs": [[1]]})["outputs"] is not None


def test_rows_are_answered_as_rows(server):
    out = server.test("/v2/models/t/infer", {"inputs": [[1, 2], [3, 4]]})
    assert set(out) == {"id", "model_name", "model_version", "outputs", "timestamp"}
    assert np.asarray(out["outputs"]).tolist() == [[1, 2], [3, 4]]


def test_kserve_v1_instances_to_predictions(server):
    out = server.test("/v1/models/t:predict", {"instances": [[1, 2]]})
    assert list(out) == ["predictions"]
    assert np.asarray(out["predictions"]).tolist() == [[1, 2]]
    resp = server.test("/v1/models/t:predict", {"rows": [[1]]}, silent=True, get_body=False)
    assert resp.status_code == 400
    assert resp.body["error"].startswith(
        "KServe v1 request needs 'instances' as a list (got no 'instances' or 'inputs' key)"
    )
    assert server.test("/v1/models/t") == {"name": "t", "ready": True}
