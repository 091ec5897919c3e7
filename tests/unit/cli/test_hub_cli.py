"""``nuserve hub list`` and ``nuserve hub show``: nuserve's hub and a user's."""

from __future__ import annotations

import pytest

from nuserve.cli.main import main
from tests.unit.hub.hub_fixtures import write_user_hub


@pytest.fixture(autouse=True)
def _no_user_hub(monkeypatch):
    monkeypatch.delenv("NUSERVE_HUB_URL", raising=False)


def test_list_names_every_function_with_version_and_description(capsys) -> None:
    assert main(["hub", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "onnx-model", "remote-flow", "sklearn-classifier", "voting-ensemble",
    ]  # fmt: skip
    assert all(line.split()[1] == "1.0.0" for line in lines)
    assert "onnxruntime" in lines[0]


def test_list_with_a_user_hub_by_option_or_env(tmp_path, capsys, monkeypatch) -> None:
    root = write_user_hub(tmp_path / "hub")
    assert main(["hub", "--hub", str(root), "list"]) == 0
    assert "doubler  " in capsys.readouterr().out
    monkeypatch.setenv("NUSERVE_HUB_URL", root.as_uri())
    assert main(["hub", "list"]) == 0
    assert "doubles its inputs" in capsys.readouterr().out


def test_show_tells_tags_files_graph_and_usage(capsys) -> None:
    assert main(["hub", "show", "remote-flow"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hub://remote-flow  (latest, 1.0.0)")
    assert "files: function.yaml, remote_flow.py" in out
    assert "graph: flow: prepare (task) -> router (router) -> outputs (task)" in out
    assert 'fn.spec.parameters["remote_url"]' in out  # the code's own usage notes
    assert main(["hub", "show", "hub://onnx-model:1.0.0"]) == 0
    out = capsys.readouterr().out
    assert "requirements: onnxruntime>=1.17,<2" in out
    assert "graph: router ModelRouter, models: none (add_model)" in out


def test_show_of_an_unknown_name_lists_the_known_ones(capsys) -> None:
    assert main(["hub", "show", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nuserve hub: hub function 'nope' not found")
    assert "available: onnx-model, remote-flow, sklearn-classifier, voting-ensemble" in err


def test_hub_needs_an_action(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["hub"])
    assert exited.value.code == 2
