"""Hubs: nuserve's own, a user's folder, file:// and http:// on 127.0.0.1; names and tags."""

from __future__ import annotations

from pathlib import Path

import pytest

import nuserve
from nuserve import hub
from nuserve.errors import ConfigError
from tests.unit.hub.hub_fixtures import http_hub, write_user_hub

BUILTIN = {"sklearn-classifier", "voting-ensemble", "onnx-model", "remote-flow"}


@pytest.fixture(autouse=True)
def _no_user_hub(monkeypatch, tmp_path):
    monkeypatch.delenv(hub.HUB_ENV, raising=False)
    monkeypatch.setenv("NUSERVE_HUB_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("hub://onnx-model", ("onnx-model", "latest")),
        ("hub://onnx-model:1.0.0", ("onnx-model", "1.0.0")),
    ],
)
def test_hub_urls(url, parsed) -> None:
    assert hub.parse_hub_url(url) == parsed


@pytest.mark.parametrize("url", ["hub://", "hub://Bad Name", "http://x/y"])
def test_bad_hub_urls_say_how_to_write_one(url) -> None:
    with pytest.raises(ConfigError, match="write hub://<name> or hub://<name>:<tag>"):
        hub.parse_hub_url(url)


def test_nuserves_hub_has_its_templates_each_with_its_files() -> None:
    found = hub.items()
    assert set(found) == BUILTIN
    for name, item in found.items():
        folder = hub.fetch(name)
        assert folder.is_relative_to(hub.BUILTIN_HUB)
        assert all((folder / f).is_file() for f in item.files)


def test_an_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        nuserve.import_function("hub://no-such-model")
    message = str(caught.value)
    assert "hub function 'no-such-model' not found" in message
    assert all(name in message for name in BUILTIN)


def test_an_unknown_tag_lists_the_tags() -> None:
    with pytest.raises(ConfigError, match=r"no tag '9.9'; its tags: latest, 1.0.0"):
        nuserve.import_function("hub://sklearn-classifier:9.9")
    assert nuserve.import_function("hub://sklearn-classifier:1.0.0").name == "sklearn-classifier"


def _answer(fn: nuserve.ServingFunction) -> list:
    return fn.to_mock_server().test("/v2/models/d/infer", {"inputs": [1, 5]})["outputs"]


def test_a_user_hub_folder_by_env_or_argument(tmp_path, monkeypatch) -> None:
    root = write_user_hub(tmp_path / "hub")
    monkeypatch.chdir(tmp_path)  # the code is found in the hub's folder, not the cwd
    assert _answer(nuserve.import_function("hub://doubler", hub_url=root)) == [2, 10]
    monkeypatch.setenv(hub.HUB_ENV, str(root))
    assert _answer(nuserve.import_function("hub://doubler:2.1")) == [2, 10]
    assert set(hub.items()) == {*BUILTIN, "doubler"}  # the user's hub comes first, then ours


def test_a_user_hub_by_file_url(tmp_path) -> None:
    root = write_user_hub(tmp_path / "hub")
    assert _answer(nuserve.import_function("hub://doubler", hub_url=root.as_uri())) == [2, 10]


@pytest.mark.integration
def test_a_user_hub_over_http_is_fetched_to_the_cache(tmp_path) -> None:
    root = write_user_hub(tmp_path / "hub")
    with http_hub(root) as url:
        fn = nuserve.import_function("hub://doubler", hub_url=url)
        assert _answer(fn) == [2, 10]
        assert fn.code_dirs[0].is_relative_to(tmp_path / "cache")
        with pytest.raises(ConfigError, match=r"hub function 'nope' not found in http://127"):
            nuserve.import_function("hub://nope", hub_url=url)
        (root / "fns" / "doubler" / "doubler.py").unlink()
        with pytest.raises(
            ConfigError, match=r"hub file http://127.*/fns/doubler/doubler.py answered 404"
        ):
            nuserve.import_function("hub://doubler", hub_url=url)


def test_a_user_hub_shadows_ours_by_name(tmp_path) -> None:
    root = write_user_hub(tmp_path / "hub", name="onnx-model", version="7")
    assert hub.find("onnx-model", "7", hub_url=root).description == "doubles its inputs"


@pytest.mark.parametrize("bad", ["../outside", "/etc", "a/../../b"])
def test_an_index_cannot_point_outside_the_hub(tmp_path, bad) -> None:
    (tmp_path / "index.yaml").write_text(f"functions:\n  x:\n    path: '{bad}'\n")
    with pytest.raises(ConfigError, match="is not a plain relative path inside the hub"):
        hub.items(tmp_path)


def test_missing_hub_folder_and_files_are_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match=f"hub directory '{tmp_path / 'nope'}' not found"):
        hub.items(tmp_path / "nope")
    with pytest.raises(ConfigError, match=f"hub file '{tmp_path / 'index.yaml'}' not found"):
        hub.items(tmp_path)
    root = write_user_hub(tmp_path / "hub")
    (root / "fns" / "doubler" / "doubler.py").unlink()
    with pytest.raises(ConfigError, match=r"file '.*fns/doubler/doubler.py' not found"):
        nuserve.import_function("hub://doubler", hub_url=root)


def test_a_broken_index_is_named(tmp_path) -> None:
    (tmp_path / "index.yaml").write_text("functions: [1, 2")
    with pytest.raises(ConfigError, match="index.yaml is not valid YAML"):
        hub.items(tmp_path)
    (tmp_path / "index.yaml").write_text("other: {}")
    with pytest.raises(ConfigError, match="has no 'functions' map"):
        hub.items(Path(tmp_path))
