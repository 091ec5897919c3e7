"""The deploy directory: what it holds, how its serving spec names the copies, and that a
server started from it alone (the checkout out of reach) serves."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

import nuserve
from nuserve.cli.main import main
from nuserve.errors import ConfigError
from nuserve.event import Event
from nuserve.function.serving_function import function_from_yaml
from nuserve.nuclio.bundle import build_bundle
from nuserve.nuclio.function_config import CODE_DIR, POST_COPY
from nuserve.nuclio.spec_env import spec_from_file
from nuserve.server.graph_server import GraphServer
from tests.nuclio_schema import check_function_config

MODEL_PY = '''
import json
from pathlib import Path

import nuserve


class Scaled(nuserve.V2ModelServer):
    def load(self):
        self.factor = json.loads(Path(self.model_path, "factor.json").read_text())["factor"]

    def predict(self, body):
        return [self.factor * x for x in body["inputs"]]
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project outside the repo: a code file, a model directory, a helper module."""
    root = tmp_path / "project"
    (root / "artifacts" / "scaled").mkdir(parents=True)
    (root / "artifacts" / "scaled" / "factor.json").write_text('{"factor": 3}')
    (root / "src").mkdir()
    (root / "src" / "scaled_model.py").write_text(MODEL_PY)
    (root / "helpers.py").write_text("X = 1\n")
    monkeypatch.chdir(root)
    return root


def make_function():
    fn = nuserve.code_to_function("scaled", filename="src/scaled_model.py", kind="serving")
    fn.set_topology("router")
    fn.add_model("scaled:v1", class_name="Scaled", model_path="artifacts/scaled")
    fn.add_model("remote", class_name="Scaled", model_path="s3://bucket/models/remote")
    fn.spec.requirements = ["scikit-learn>=1.4,<2"]
    return fn


def test_the_directory_holds_code_models_handler_and_the_nuserve_wheel(project, tmp_path):
    bundle = make_function().build(tmp_path / "out", include=["helpers.py"])
    out = tmp_path / "out"
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "function.yaml", "handler.py", "helpers.py", "models/scaled-v1/factor.json",
        "scaled_model.py", f"wheels/nuserve-{nuserve.__version__}-py3-none-any.whl",
    ]  # fmt: skip
    assert bundle.kept_paths == ["s3://bucket/models/remote"]
    assert bundle.wheels == [f"nuserve-{nuserve.__version__}-py3-none-any.whl"]
    assert not bundle.offline
    doc = yaml.safe_load((out / "function.yaml").read_text())
    assert check_function_config(doc) == []
    assert bundle.yaml == (out / "function.yaml").read_text()
    spec = spec_from_file(out / "function.yaml")
    assert spec.filename == "scaled_model.py"
    routes = spec.graph.routes
    assert routes["scaled:v1"].model_path == "models/scaled-v1"
    assert routes["remote"].model_path == "s3://bucket/models/remote"
    commands = doc["spec"]["build"]["commands"]
    assert commands[0] == POST_COPY and f"--find-links {CODE_DIR}/wheels" in commands[1]
    assert (out / "handler.py").read_text() == (Path(__file__).parents[3] / "handler.py").read_text()


def test_the_directory_alone_serves(project, tmp_path, monkeypatch):
    """The code directory is all the server has: cwd elsewhere, the project gone."""
    make_function().build(tmp_path / "out")
    out = tmp_path / "out"
    (project / "src" / "scaled_model.py").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = spec_from_file(out / "function.yaml")
    del spec.graph.routes["remote"]  # s3:// is out of reach here
    server = GraphServer(spec, code_dirs=[out]).start()
    response = server.run(Event({"inputs": [1, 2]}, "/v2/models/scaled/versions/v1/infer"))
    assert (response.status_code, response.body["outputs"]) == (200, [3, 6])


def test_its_function_yaml_reads_back_to_the_same_text(project, tmp_path):
    bundle = make_function().build(tmp_path / "out")
    again = function_from_yaml(bundle.yaml_path)
    assert again.spec.wheel_dir == "wheels" and again.spec.offline is False
    assert again.spec.requirements == ["scikit-learn>=1.4,<2"]
    assert again.to_yaml() == bundle.yaml


def test_a_dry_plan_writes_nothing(project, tmp_path):
    plan = build_bundle(make_function().functions(), tmp_path / "out", write=False)
    assert not (tmp_path / "out").exists()
    assert plan.copied == {
        "scaled_model.py": str(project / "src" / "scaled_model.py"),
        "models/scaled-v1": str((project / "artifacts" / "scaled").resolve()),
    }
    assert "models/scaled-v1" in plan.yaml


def test_refusals_name_the_problem(project, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    fn = make_function()
    with pytest.raises(ConfigError, match=r"full exists and is not an empty directory"):
        fn.build(tmp_path / "full")
    with pytest.raises(ConfigError, match=r"include path 'nope.py' not found \(tried: "):
        fn.build(tmp_path / "a", include=["nope.py"])
    (project / "other").mkdir()
    (project / "other" / "scaled_model.py").write_text("")
    with pytest.raises(ConfigError, match=r"two files want 'scaled_model.py' in the deploy"):
        fn.build(tmp_path / "b", include=["other/scaled_model.py"])
    fn.spec.filename = "src/missing.py"
    with pytest.raises(ConfigError, match=r"function code file 'src/missing.py' not found"):
        fn.build(tmp_path / "c")


def test_a_missing_local_model_path_is_kept_and_reported(project, tmp_path):
    fn = make_function()
    fn.spec.graph.routes["scaled:v1"].model_path = "/mnt/models/scaled"
    bundle = fn.build(tmp_path / "out")
    assert "/mnt/models/scaled" in bundle.kept_paths
    assert spec_from_file(tmp_path / "out" / "function.yaml").graph.routes[
        "scaled:v1"
    ].model_path == "/mnt/models/scaled"


def test_cli_build_dir(project, tmp_path, capsys):
    (project / "fn.py").write_text(
        "import nuserve\n"
        "fn = nuserve.code_to_function('scaled', filename='src/scaled_model.py', kind='serving')\n"
        "fn.add_model('s', class_name='Scaled', model_path='artifacts/scaled')\n"
    )
    assert main(["build", "fn.py", "--dir", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'out'} for function 'scaled': 2 copied, 1 wheels" in out
    assert f"nuctl deploy scaled --path {tmp_path / 'out'} --file" in out
    assert not (project / "function.yaml").exists()
    assert spec_from_file(tmp_path / "out" / "function.yaml").graph.routes["s"].model_path == (
        "models/s"
    )


FAKE_NUCTL = """#!{python}
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
path = Path(args[args.index("--path") + 1])
files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
Path(os.environ["FAKE_NUCTL_RECORD"]).write_text(json.dumps({{"argv": args, "files": files}}))
"""


def test_deploy_with_a_build_dir_hands_nuctl_the_directory(project, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "nuctl"
    script.write_text(FAKE_NUCTL.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_NUCTL_RECORD", str(tmp_path / "record.json"))
    out = tmp_path / "out"
    dry = make_function().deploy(dry_run=True, build_dir=out, platform="local")
    assert not out.exists()
    assert dry.command == [
        "nuctl", "deploy", "scaled", "--path", str(out), "--file", str(out / "function.yaml"),
        "--platform", "local",
    ]  # fmt: skip
    result = make_function().deploy(build_dir=out, platform="local")
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["argv"] == dry.command[1:]
    assert "wheels/" + f"nuserve-{nuserve.__version__}-py3-none-any.whl" in record["files"]
    assert result.yaml == dry.yaml == (out / "function.yaml").read_text()


def test_cli_deploy_with_a_build_dir_dry_run(project, tmp_path, capsys):
    (project / "fn.py").write_text(
        "import nuserve\n"
        "fn = nuserve.code_to_function('scaled', filename='src/scaled_model.py', kind='serving')\n"
        "fn.add_model('s', class_name='Scaled', model_path='artifacts/scaled')\n"
    )
    out = tmp_path / "out"
    argv = ["deploy", "fn.py", "--build-dir", str(out), "--with-deps", "--dry-run"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["command"][:5] == ["nuctl", "deploy", "scaled", "--path", str(out)]
    assert "pip install --no-index --find-links /opt/nuclio/wheels nuserve==" in result["yaml"]
    assert not out.exists()


def test_the_archive_holds_the_same_files_at_its_root(project, tmp_path):
    import tarfile

    bundle = make_function().build(tmp_path / "out", archive=True)
    assert bundle.archive == str(tmp_path / "out.tar.gz")
    out = tmp_path / "out"
    with tarfile.open(bundle.archive) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        assert tar.extractfile("function.yaml").read().decode() == bundle.yaml
    assert names == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
