"""Deploying through nuctl: a fake ``nuctl`` first on PATH records the command line and the
function.yaml it was given, so the real subprocess path of our code runs end to end."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

import nuserve
from nuserve.errors import ConfigError
from nuserve.function.serving_function import ServingFunction, function_from_yaml
from nuserve.nuclio.deploy import (
    NUCTL_DOCS,
    DeployError,
    DeployResult,
    deploy_file,
    deploy_function,
    find_nuctl,
)
from tests.models import Echo
from tests.nuclio_schema import check_function_config

FAKE_NUCTL = """#!{python}
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
record = {{"argv": args, "yaml": Path(args[args.index("--file") + 1]).read_text()}}
Path(os.environ["FAKE_NUCTL_RECORD"]).write_text(json.dumps(record))
for i in range(100):
    print(f"deploy log line {{i}}")
if os.environ.get("FAKE_NUCTL_FAIL"):
    print("Error - failed to build processor image", file=sys.stderr)
    sys.exit(3)
print("Function deploy complete")
"""


@pytest.fixture
def fake_nuctl(tmp_path, monkeypatch) -> Path:
    """A ``nuctl`` script first on PATH; returns the file where it records its call."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "nuctl"
    script.write_text(FAKE_NUCTL.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "record.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_NUCTL_RECORD", str(record))
    monkeypatch.delenv("FAKE_NUCTL_FAIL", raising=False)
    return record


@pytest.fixture
def project(tmp_path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "handler.py").write_text("from nuserve.nuclio.adapter import handler, init_context\n")
    return project


@pytest.fixture
def fn() -> ServingFunction:
    fn = nuserve.new_function("iris")
    fn.add_model("iris", class_name=Echo, model_path="/models/iris")
    fn.add_kafka_trigger(brokers=["kafka:9092"], topics=["requests"], explicit_ack=True)
    return fn


def test_deploy_runs_nuctl_with_the_yaml_and_code_dir(fn, fake_nuctl, project):
    result = fn.deploy(project_dir=project, platform="kube", registry="registry.local:5000")
    record = json.loads(fake_nuctl.read_text())
    yaml_path = project / ".nuserve" / "iris.yaml"
    assert record["argv"] == [
        "deploy", "iris", "--path", str(project), "--file", str(yaml_path),
        "--platform", "kube", "--registry", "registry.local:5000",
    ]  # fmt: skip
    assert record["yaml"] == fn.to_yaml() == result.yaml == yaml_path.read_text()
    assert check_function_config(yaml.safe_load(record["yaml"])) == []
    assert function_from_yaml(yaml_path).to_yaml() == record["yaml"]
    assert result.returncode == 0 and not result.dry_run
    assert Path(result.command[0]).name == "nuctl"
    assert result.command[1:] == record["argv"]
    assert result.output_tail[-1] == "Function deploy complete"
    assert len(result.output_tail) == 40


def test_a_failed_deploy_raises_with_the_tail_of_the_output(fn, fake_nuctl, project, monkeypatch):
    monkeypatch.setenv("FAKE_NUCTL_FAIL", "1")
    with pytest.raises(DeployError, match=r"nuctl deploy failed \(exit status 3\)") as info:
        fn.deploy(project_dir=project)
    message = str(info.value)
    assert "Error - failed to build processor image" in message
    assert "deploy log line 99" in message and "deploy log line 10\n" not in message
    assert info.value.result.returncode == 3
    assert isinstance(info.value, ConfigError)
    assert "--platform" not in json.loads(fake_nuctl.read_text())["argv"]


def test_dry_run_runs_nothing(fn, fake_nuctl, project, monkeypatch):
    monkeypatch.setenv("PATH", "")
    result = fn.deploy(dry_run=True, project_dir=project, platform="local")
    assert isinstance(result, DeployResult) and result.dry_run and result.returncode is None
    assert result.command == [
        "nuctl", "deploy", "iris", "--path", str(project),
        "--file", str(project / ".nuserve" / "iris.yaml"), "--platform", "local",
    ]  # fmt: skip
    assert result.yaml == fn.to_yaml()
    assert not fake_nuctl.exists() and not (project / ".nuserve").exists()


def test_missing_nuctl_says_how_to_install_it(fn, project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=r"nuctl is not on PATH \(looked for 'nuctl'\)") as info:
        fn.deploy(project_dir=project)
    assert "https://github.com/nuclio/nuclio/releases" in str(info.value)
    assert NUCTL_DOCS in str(info.value) and "nuctl='/path/to/nuctl'" in str(info.value)
    with pytest.raises(ConfigError, match=r"looked for 'my-nuctl'"):
        find_nuctl("my-nuctl")


def test_an_explicit_nuctl_path_is_used(fn, fake_nuctl, project, tmp_path, monkeypatch):
    script = tmp_path / "bin" / "nuctl"
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = deploy_function(fn, project_dir=project, nuctl=str(script), namespace="models")
    assert result.command[0] == str(script)
    assert result.command[-2:] == ["--namespace", "models"]


def test_deploy_checks_its_inputs(fn, project, tmp_path):
    with pytest.raises(ConfigError, match=r"platform must be one of 'auto', 'local', 'kube'"):
        fn.deploy(dry_run=True, project_dir=project, platform="k8s")
    with pytest.raises(ConfigError, match=r"project_dir '.*nowhere' is not a directory"):
        fn.deploy(dry_run=True, project_dir=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"handler.py not found: Nuclio loads handler "):
        fn.deploy(dry_run=True, project_dir=tmp_path)
    fn.spec.handler = "nuserve.nuclio:handler"
    assert fn.deploy(dry_run=True, project_dir=tmp_path).dry_run


def test_cli_style_serialisation(fn, project):
    import orjson

    result = fn.deploy(dry_run=True, project_dir=project)
    data = orjson.loads(orjson.dumps(result, default=vars))
    assert data["command"][0] == "nuctl" and data["dry_run"] is True


def test_deploy_file_sends_the_file_as_it_is(fn, fake_nuctl, project):
    doc = yaml.safe_load(fn.to_yaml())
    doc["spec"]["nodeSelector"] = {"gpu": "a100"}  # not modelled by the builder: kept as is
    path = project / "function.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError, match=r"deploy such a file as it is with"):
        function_from_yaml(path)
    result = deploy_file(path, project_dir=project, platform="kube")
    record = json.loads(fake_nuctl.read_text())
    assert record["argv"] == [
        "deploy", "iris", "--path", str(project), "--file", str(path), "--platform", "kube",
    ]  # fmt: skip
    assert record["yaml"] == path.read_text() == result.yaml
    assert not (project / ".nuserve").exists()


def test_deploy_file_checks(project, tmp_path):
    with pytest.raises(ConfigError, match=r"function.yaml '.*nope.yaml' not found"):
        deploy_file(tmp_path / "nope.yaml", dry_run=True, project_dir=project)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("spec: {handler: 'handler:handler'}\n")
    with pytest.raises(ConfigError, match=r"has no metadata.name; nuctl needs the function's name"):
        deploy_file(nameless, dry_run=True, project_dir=project)
    other = tmp_path / "other.yaml"
    other.write_text("metadata: {name: f}\nspec: {handler: 'main:handler'}\n")
    with pytest.raises(
        ConfigError, match=r"main.py not found: Nuclio loads handler 'main:handler'"
    ):
        deploy_file(other, dry_run=True, project_dir=project)
