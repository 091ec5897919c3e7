"""The offline deploy directory: what it holds and how its build installs (the install itself
runs in tests/integration/test_offline_bundle.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import yaml

import nuserve
from nuserve.cli.main import main
from nuserve.nuclio.bundle import POST_COPY, build_wheel, runtime_requirements, write_bundle
from nuserve.nuclio.spec_env import decode_spec


def test_the_wheel_holds_the_running_package_and_its_metadata(tmp_path):
    wheel = build_wheel(tmp_path)
    assert wheel.name == f"nuserve-{nuserve.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        package = Path(nuserve.__file__).parent
        assert archive.read("nuserve/nuclio/bundle.py") == (package / "nuclio" / "bundle.py").read_bytes()
        metadata = archive.read(f"nuserve-{nuserve.__version__}.dist-info/METADATA").decode()
        record = archive.read(f"nuserve-{nuserve.__version__}.dist-info/RECORD").decode()
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert all(f"Requires-Dist: {r}" in metadata for r in runtime_requirements())
    assert "nuserve/py.typed" in names and "nuserve/__init__.py," in record


def test_models_are_copied_uris_kept_and_the_build_installs_from_the_wheels(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "m.json").write_text("{}")
    (project / ".git").mkdir()
    (project / ".git" / "x").write_text("no")
    fn = nuserve.new_function("b", requirements=["scikit-learn>=1.4,<2"])
    fn.add_model("local", class_name="tests.models.Echo", model_path="m.json")
    fn.add_model("remote", class_name="tests.models.Echo", model_path="s3://bucket/m.pkl")
    fn.spec.build_commands = ["echo done"]
    asked = []
    bundle = write_bundle(
        fn, project / "out", project_dir=project,
        download=lambda reqs, dest, python: asked.append((reqs, python)),
    )  # fmt: skip
    out = bundle.directory
    assert (out / "handler.py").is_file() and (out / "m.json").is_file() and not (out / ".git").exists()
    assert not (out / "out").exists()  # the bundle is not copied into itself
    assert (out / "models" / "local" / "m.json").is_file()
    config = yaml.safe_load(bundle.function_yaml.read_text())
    spec = decode_spec(config["spec"]["env"][0]["value"])
    paths = {r["key"]: r["model_path"] for r in spec["graph"]["routes"]}
    assert paths == {"local": "/opt/nuclio/models/local/m.json", "remote": "s3://bucket/m.pkl"}
    assert config["spec"]["build"]["commands"] == [
        POST_COPY,
        f"pip install --no-index --find-links /opt/nuclio/wheels nuserve=={nuserve.__version__} 'scikit-learn>=1.4,<2'",
        "echo done",
    ]
    assert asked == [([*runtime_requirements(), "scikit-learn>=1.4,<2"], "3.11")]


def test_nuserve_build_bundle_without_dependencies(tmp_path, monkeypatch, capsys):
    (tmp_path / "f.py").write_text(
        "import nuserve\nfn = nuserve.new_function('cli')\nfn.add_model('e', class_name='tests.models.Echo')\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["build", "f.py", "--bundle", "dist-fn", "--no-dependencies"]) == 0
    assert sorted(p.name for p in (tmp_path / "dist-fn" / "wheels").iterdir()) == [
        f"nuserve-{nuserve.__version__}-py3-none-any.whl"
    ]
    assert "nuctl deploy cli --path" in capsys.readouterr().err
