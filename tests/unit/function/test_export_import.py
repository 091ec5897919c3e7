"""fn.export() writes the function.yaml MLRun's export would; import_function reads it back."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.errors import ConfigError
from tests.unit.hub.hub_fixtures import DOUBLER


def _function(tmp_path, monkeypatch) -> nuserve.ServingFunction:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "doubler.py").write_text(DOUBLER)
    monkeypatch.chdir(tmp_path / "src")
    fn = nuserve.code_to_function("doubler", filename="doubler.py", requirements=["numpy<3"])
    fn.add_model("d", class_name="Doubler").class_args["extra"] = 1
    fn.with_http(workers=3).set_env("MODE", "test")
    return fn


def test_export_then_import_round_trips(tmp_path, monkeypatch) -> None:
    fn = _function(tmp_path, monkeypatch)
    written = fn.export(tmp_path / "out" / "function.yaml")
    assert written == tmp_path / "out" / "function.yaml"
    again = nuserve.import_function(written)
    assert again.to_yaml() == fn.to_yaml() == written.read_text()
    assert again.name == "doubler" and again.spec.requirements == ["numpy<3"]


@pytest.mark.parametrize("spelling", ["./out/function.yaml", "out/function.yaml", "out", "./out"])
def test_import_by_relative_path_or_folder(tmp_path, monkeypatch, spelling) -> None:
    fn = _function(tmp_path, monkeypatch)
    fn.export(tmp_path / "src" / "out" / "function.yaml")
    assert nuserve.import_function(spelling).to_yaml() == fn.to_yaml()


def test_an_exported_folder_serves_on_its_own(tmp_path, monkeypatch) -> None:
    fn = _function(tmp_path, monkeypatch)
    imported = nuserve.import_function(fn.export(tmp_path / "first"))
    imported.export(tmp_path / "second")  # the code file comes along from the first folder
    assert (tmp_path / "second" / "doubler.py").read_text() == DOUBLER
    (tmp_path / "src" / "doubler.py").unlink()
    (tmp_path / "first" / "doubler.py").unlink()
    monkeypatch.chdir(tmp_path)
    served = nuserve.import_function(tmp_path / "second").to_mock_server()
    assert served.test("/v2/models/d/infer", {"inputs": [3]})["outputs"] == [6]


def test_new_name(tmp_path, monkeypatch) -> None:
    fn = _function(tmp_path, monkeypatch)
    renamed = nuserve.import_function(fn.export(tmp_path / "out"), new_name="tripler")
    assert renamed.name == "tripler" and "name: tripler" in renamed.to_yaml()


def test_a_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match=f"function file '{tmp_path / 'nope.yaml'}' not found"):
        nuserve.import_function(tmp_path / "nope.yaml")
    with pytest.raises(
        ConfigError, match=f"function file '{tmp_path / 'function.yaml'}' not found"
    ):
        nuserve.import_function(tmp_path)
