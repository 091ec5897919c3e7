"""The seed document's example, exactly as written there with ``mlrun`` replaced by ``nuserve``.

A cloudpickled sklearn iris classifier, two models in a router, 150 outputs.
"""

from __future__ import annotations

from typing import List  # noqa: UP035 - as the seed example writes it

import cloudpickle
import numpy as np
import pytest
from cloudpickle import load
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nuserve

# The seed's load() leaves its file open, exactly as written; that is the example's, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)


class ClassifierModel(nuserve.V2ModelServer):
    def load(self):
        """load and initialize the model and/or other elements"""
        model_file, extra_data = self.get_model(".pkl")
        self.model = load(open(model_file, "rb"))

    def predict(self, body: dict) -> List:  # noqa: UP006
        """Generate model predictions from sample."""
        feats = np.asarray(body["inputs"])
        result: np.ndarray = self.model.predict(feats)
        return result.tolist()


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    iris = load_iris()
    clf = LogisticRegression(max_iter=500).fit(iris.data, iris.target)
    path = tmp_path_factory.mktemp("iris") / "model.pkl"
    path.write_bytes(cloudpickle.dumps(clf))
    return str(path), clf


def test_seed_example(model_path):
    path, clf = model_path
    fn = nuserve.new_function("my-serving", kind="serving", image="mlrun/mlrun")
    fn.set_topology("router")
    fn.add_model("model1", class_name="ClassifierModel", model_path=path)
    fn.add_model("model2", class_name="ClassifierModel", model_path=path)

    server = fn.to_mock_server()
    iris = load_iris()
    x = iris["data"].tolist()
    result = server.test("/v2/models/model1/infer", {"inputs": x})
    assert len(result["outputs"]) == 150
    assert result["outputs"] == clf.predict(iris["data"]).tolist()
    assert result["model_name"] == "model1"
    result2 = server.test("/v2/models/model2/infer", {"inputs": x[:3]})
    assert result2["outputs"] == clf.predict(iris["data"][:3]).tolist()


def test_seed_class_serves_a_single_oip_tensor_unchanged(model_path):
    path, clf = model_path
    fn = nuserve.new_function("my-serving")
    fn.add_model("model1", class_name=ClassifierModel, model_path=path)
    server = fn.to_mock_server()
    data = load_iris()["data"][:5]
    body = {"inputs": [{"name": "x", "shape": [5, 4], "datatype": "FP64", "data": data.tolist()}]}
    out = server.test("/v2/models/model1/infer", body)
    assert out["outputs"][0]["data"] == clf.predict(data).tolist()
    assert out["outputs"][0]["shape"] == [5]
