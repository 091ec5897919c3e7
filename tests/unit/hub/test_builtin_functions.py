"""Each function of nuserve's hub, imported and served: scikit-learn, a voting ensemble,
ONNX (and what it says without onnxruntime), and the remote flow against a real
``nuserve serve`` of the scikit-learn function on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import nuserve
from nuserve.errors import ConfigError
from tests.serve_models import HOST, ROOT, free_port, request, stop, wait_until

X, Y = load_iris(return_X_y=True)
ROWS = X[::15]


@pytest.fixture(autouse=True)
def _no_user_hub(monkeypatch):
    monkeypatch.delenv("NUSERVE_HUB_URL", raising=False)


def _saved(tmp_path: Path, model, name: str = "model.pkl") -> str:
    path = tmp_path / name
    path.write_bytes(cloudpickle.dumps(model.fit(X, Y)))
    return str(path)


def test_sklearn_classifier(tmp_path) -> None:
    model = LogisticRegression(max_iter=500)
    fn = nuserve.import_function("hub://sklearn-classifier")
    fn.add_model("iris", class_name="SklearnClassifier", model_path=_saved(tmp_path, model))
    server = fn.to_mock_server()
    answer = server.test("/v2/models/iris/infer", {"inputs": ROWS.tolist()})
    assert answer["outputs"] == model.predict(ROWS).tolist()
    proba = server.test("/v2/models/iris/proba", {"inputs": ROWS[:2].tolist()})["outputs"]
    assert np.allclose(proba, model.predict_proba(ROWS[:2]))


def test_voting_ensemble_answers_the_majority(tmp_path) -> None:
    models = [
        LogisticRegression(max_iter=500),
        DecisionTreeClassifier(max_depth=1),
        KNeighborsClassifier(3),
    ]
    fn = nuserve.import_function("hub://voting-ensemble")
    for i, model in enumerate(models):
        fn.add_model(
            f"m{i}", class_name="EnsembleMember", model_path=_saved(tmp_path, model, f"{i}.pkl")
        )
    answer = fn.to_mock_server().test("/v2/models/ensemble/infer", {"inputs": X.tolist()})
    votes = np.stack([m.predict(X) for m in models])
    majority = [int(np.bincount(column, minlength=3).argmax()) for column in votes.T]
    assert answer["outputs"] == majority
    assert len({tuple(v) for v in votes.tolist()}) > 1  # the members disagree somewhere


def _onnx_linear(path: Path, weights: np.ndarray, bias: np.ndarray) -> str:
    from onnx import TensorProto, helper, numpy_helper, save

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, weights.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, weights.shape[1]])],
        [numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(path))
    return str(path)


def test_onnx_model(tmp_path) -> None:
    weights = np.arange(8, dtype=np.float32).reshape(4, 2) / 4
    bias = np.array([1.0, -1.0], dtype=np.float32)
    fn = nuserve.import_function("hub://onnx-model")
    fn.add_model(
        "lin",
        class_name="OnnxModelServer",
        model_path=_onnx_linear(tmp_path / "m.onnx", weights, bias),
    )
    answer = fn.to_mock_server().test("/v2/models/lin/infer", {"inputs": ROWS.tolist()})
    assert np.allclose(answer["outputs"], ROWS.astype(np.float32) @ weights + bias, atol=1e-5)


def test_onnx_model_without_onnxruntime_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` fails
    fn = nuserve.import_function("hub://onnx-model")
    fn.add_model("lin", class_name="OnnxModelServer", model_path=str(tmp_path / "m.onnx"))
    with pytest.raises(
        ConfigError,
        match=r"needs onnxruntime, which is not installed here: pip install 'nuserve\[onnx\]'",
    ):
        fn.to_mock_server()


@pytest.mark.integration
def test_remote_flow_against_nuserve_serve(tmp_path) -> None:
    model = LogisticRegression(max_iter=500)
    backend = nuserve.import_function("hub://sklearn-classifier")
    backend.add_model("iris", class_name="SklearnClassifier", model_path=_saved(tmp_path, model))
    exported = backend.export(tmp_path / "backend")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NUSERVE_SPEC", None)
    command = [
        sys.executable,
        "-m",
        "nuserve.cli",
        "serve",
        str(exported),
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:

        def ready() -> bool:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return request(port, "GET", "/v2/health/ready", timeout=2)[0] == 200
            except OSError:
                return False

        wait_until(ready, 60, "nuserve serve of hub://sklearn-classifier")
        fn = nuserve.import_function("hub://remote-flow")
        fn.spec.parameters["remote_url"] = f"http://{HOST}:{port}/v2/models/iris"
        fn.spec.graph.steps["prepare"].class_args["scale"] = 2
        answer = fn.to_mock_server().test("/", {"inputs": ROWS.tolist()})
        assert answer == model.predict(ROWS * 2).tolist()
    finally:
        stop(process)
    down = fn.to_mock_server().test("/", {"inputs": ROWS.tolist()}, silent=True, get_body=False)
    assert down.status_code == 502
    assert f"http://{HOST}:{port}/v2/models/iris" in down.body["error"]


def test_remote_flow_without_a_url_says_which_parameter() -> None:
    with pytest.raises(ConfigError, match=r"fn.spec.parameters\['remote_url'\]"):
        nuserve.import_function("hub://remote-flow").to_mock_server()
