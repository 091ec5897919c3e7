"""The function hub: the shipped items, a user hub as a directory or URL, export/import."""

from __future__ import annotations

import functools
import pickle
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nuserve
from nuserve import ConfigError
from nuserve.function.hub import SHIPPED, hub_index
from tests.unit.graph.test_remote_step import Recorder  # a real JSON-echoing server


@pytest.fixture(scope="module")
def iris_models(tmp_path_factory):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for i, model in enumerate((LogisticRegression(max_iter=500), DecisionTreeClassifier())):
        path = folder / f"m{i}.pkl"
        path.write_bytes(pickle.dumps(model.fit(x, y)))
        paths.append(str(path))
    return paths


def test_the_shipped_index_lists_the_four_items():
    assert set(hub_index()) == {"sklearn-classifier", "ensemble", "onnx-model", "remote-flow"}


def test_sklearn_classifier_serves_a_pickled_model(iris_models):
    fn = nuserve.import_function("hub://sklearn-classifier")
    fn.add_model("iris", model_path=iris_models[0])  # the item's default class
    answer = fn.to_mock_server().test("/v2/models/iris/infer", {"inputs": [[5.1, 3.5, 1.4, 0.2]]})
    assert answer["outputs"] == [0]


def test_ensemble_votes(iris_models):
    fn = nuserve.import_function("hub://ensemble")
    fn.add_model("a", model_path=iris_models[0])
    fn.add_model("b", model_path=iris_models[1])
    answer = fn.to_mock_server().test("/v2/models/infer", {"inputs": [[6.7, 3.0, 5.2, 2.3]]})
    assert answer["outputs"] == [2]


def test_onnx_item_names_its_class_and_requirement():
    fn = nuserve.import_function("hub://onnx-model")
    assert fn.default_class == "ONNXModelServer"
    assert any(r.startswith("onnxruntime") for r in fn.spec.requirements)


@pytest.fixture
def echo_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.integration
def test_remote_flow_calls_the_url_given_as_a_parameter(echo_url):
    fn = nuserve.import_function("hub://remote-flow", params={"url": f"{echo_url}/score"})
    answer = fn.to_mock_server().test(body={"x": 1})
    assert answer["result"]["path"] == "/score"
    assert answer["result"]["got"] == '{"data":{"x":1}}'


def test_unknown_items_name_the_items():
    with pytest.raises(ConfigError, match="has no item 'nope' .*sklearn-classifier"):
        nuserve.import_function("hub://nope")


@pytest.mark.integration
def test_a_user_hub_served_over_http(tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "hub")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "hub"))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert "remote-flow" in hub_index(url)
        fn = nuserve.import_function("hub://remote-flow", params={"url": "http://x"}, hub=url)
        assert list(fn.spec.graph.steps) == ["prepare", "remote", "answer"]
    finally:
        server.shutdown()
        server.server_close()


def test_export_and_import_function_round_trip(tmp_path, iris_models):
    fn = nuserve.import_function("hub://sklearn-classifier")
    fn.add_model("iris", model_path=iris_models[0])
    path = fn.export(tmp_path / "function.yaml")
    again = nuserve.import_function(str(path))
    assert again.to_yaml() == fn.to_yaml()


def test_the_cli_lists_and_shows_items():
    run = [sys.executable, "-m", "nuserve.cli", "hub"]
    listed = subprocess.run([*run, "list"], capture_output=True, text=True, check=True, timeout=60)
    assert "sklearn-classifier" in listed.stdout and "remote-flow" in listed.stdout
    shown = subprocess.run([*run, "show", "ensemble"], capture_output=True, text=True,
                           check=True, timeout=60)  # fmt: skip
    assert "VotingEnsemble" in shown.stdout and "example:" in shown.stdout
