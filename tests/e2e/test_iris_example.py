"""The iris example: the committed function.yaml is what the code generates, and it serves."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from nuserve.cli.main import load_function
from nuserve.event import Event
from nuserve.nuclio.spec_env import spec_from_file
from nuserve.server.graph_server import GraphServer
from tests.nuclio_schema import check_function_config

ROOT = Path(__file__).resolve().parents[2]


def _train(out_dir: Path) -> None:
    spec = importlib.util.spec_from_file_location("iris_train", ROOT / "examples/iris/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(out_dir)


def test_committed_function_yaml_is_up_to_date(monkeypatch):
    monkeypatch.chdir(ROOT)
    generated = load_function("examples/iris/function.py").to_yaml()
    committed = (ROOT / "function.yaml").read_text()
    assert generated == committed, (
        "function.yaml is out of date; run: nuserve build examples/iris/function.py -o function.yaml"
    )
    assert check_function_config(yaml.safe_load(committed)) == []


def test_function_yaml_serves_iris(tmp_path, monkeypatch):
    _train(tmp_path / "model")
    spec = spec_from_file(ROOT / "function.yaml")
    spec.graph.routes["iris"].model_path = str(tmp_path / "model")
    monkeypatch.chdir(tmp_path)
    server = GraphServer(spec, code_dirs=[ROOT]).start()
    body = {"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}
    response = server.run(Event(body, "/v2/models/iris/infer"))
    assert response.status_code == 200
    assert response.body["outputs"] == [0, 2]
    labels = server.run(Event({}, "/v2/models/iris/labels"))
    assert labels.body == {"labels": ["setosa", "versicolor", "virginica"]}
    meta = server.run(Event(None, "/v2/models/iris", "GET")).body
    assert [i["name"] for i in meta["inputs"]] == [
        "sepal_length", "sepal_width", "petal_length", "petal_width"
    ]
    bad = server.run(Event({"inputs": [[1, 2, 3]]}, "/v2/models/iris/infer"))
    assert (bad.status_code, bad.body["error"]) == (
        400, "model 'iris' expects rows of 4 features (row 0 has 3)"
    )
