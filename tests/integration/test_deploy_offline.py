"""The iris example's deploy directory builds with no package index, and Nuclio's way of
calling handler.py answers from what that build installed.

``fn.build(dir, with_deps=True)`` writes the directory; the generated build commands run as a
Nuclio build runs them (in order, ``/opt/nuclio`` being the directory) in a fresh venv with
no index (``PIP_NO_INDEX=1``, and an index URL that refuses connections should anything still
ask one). Then ``tests/nuclio_driver.py`` runs in that venv with ``python -I`` (no repo, no
user site) and drives handler.py as Nuclio's wrapper does.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import orjson
import pytest
import yaml

from nuserve.cli.main import load_function
from nuserve.nuclio.function_config import CODE_DIR, POST_COPY
from nuserve.version import __version__

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "nuclio_driver.py"
WHEEL_CACHE = Path.home() / ".cache" / "nuserve" / "offline-wheels"
"""Dependency wheels kept between runs (filled from the index the first time)."""
NO_INDEX_ENV = {
    "PIP_NO_INDEX": "1",
    "PIP_INDEX_URL": "http://127.0.0.1:9/refused",
    "PIP_EXTRA_INDEX_URL": "",
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}

pytestmark = pytest.mark.integration


def _train(out_dir: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("iris_train", ROOT / "examples/iris/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(out_dir)


def _request(path, body, method="POST", content_type="application/json", headers=None):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return {
        "path": path, "method": method, "content_type": content_type,
        "body_b64": base64.b64encode(data).decode(), "headers": headers or {},
    }  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The iris deploy directory (with every dependency's wheel) and a venv its build
    commands installed into with no index."""
    work = tmp_path_factory.mktemp("offline")
    _train(work / "model")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        fn = load_function("examples/iris/function.py")
        fn.spec.runtime = f"python:{sys.version_info.major}.{sys.version_info.minor}"
        fn.spec.graph.routes["iris"].model_path = str(work / "model")
        bundle = fn.build(work / "iris", with_deps=True, wheel_cache=WHEEL_CACHE)
    finally:
        os.chdir(cwd)
    directory = Path(bundle.directory)
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    commands = yaml.safe_load((directory / "function.yaml").read_text())["spec"]["build"]["commands"]
    env = {**os.environ, **NO_INDEX_ENV, "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    for command in commands:
        if command == POST_COPY:
            continue
        done = subprocess.run(
            ["bash", "-c", command.replace(CODE_DIR, str(directory))],
            env=env, capture_output=True, text=True, timeout=300, cwd=work,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return bundle, directory, env_dir, commands


def test_the_directory_holds_code_models_and_wheels(built):
    bundle, directory, _, commands = built
    assert (directory / "handler.py").is_file() and (directory / "iris_model.py").is_file()
    assert (directory / "models/iris/model.pkl").is_file()
    wheels = {p.name for p in (directory / "wheels").iterdir()}
    assert f"nuserve-{__version__}-py3-none-any.whl" in wheels
    assert any(w.startswith("scikit_learn-") for w in wheels)
    assert any(w.startswith("nuclio_sdk-") for w in wheels)
    assert commands[0] == POST_COPY  # the wheels are there only after Nuclio's copy
    assert all("--no-index" in c for c in commands[1:] if c.startswith("pip install"))


def test_handler_answers_under_nuclio_events_from_the_offline_build(built, tmp_path):
    _, directory, env_dir, _ = built
    requests = [
        _request("/v2/models/iris/infer", {"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}),
        _request("/v2/models/iris/labels", {}),
        _request("/v2/models/iris/infer", b'{"inputs": [[1, 2'),
        _request("/v2/models/nope/infer", {"inputs": [[1, 2, 3, 4]]}),
        _request("/v2/models/iris", b"", method="GET", content_type=""),
    ]
    (tmp_path / "requests.json").write_text(json.dumps(requests))
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    spec_env = yaml.safe_load((directory / "function.yaml").read_text())["spec"]["env"]
    for entry in spec_env:
        env[entry["name"]] = str(entry["value"]).replace(CODE_DIR, str(directory))
    done = subprocess.run(
        [str(env_dir / "bin" / "python"), "-I", str(DRIVER), str(directory), str(tmp_path / "requests.json")],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["nuserve"]).is_relative_to(env_dir), result["nuserve"]
    assert result["version"] == __version__
    infer, labels, malformed, unknown, meta = result["answers"]
    assert infer["status"] == 200 and json.loads(infer["body"])["outputs"] == [0, 2]
    assert json.loads(labels["body"]) == {"labels": ["setosa", "versicolor", "virginica"]}
    assert malformed["status"] == 400
    assert "not valid JSON" in json.loads(malformed["body"])["error"]
    assert unknown["status"] == 404 and "nope" in json.loads(unknown["body"])["error"]
    assert [i["name"] for i in json.loads(meta["body"])["inputs"]] == [
        "sepal_length", "sepal_width", "petal_length", "petal_width"
    ]
