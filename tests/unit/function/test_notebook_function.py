"""code_to_function in a real notebook: a Jupyter kernel (ipykernel, run by nbclient) runs
cells that define a model, call code_to_function without a filename, serve it in the mock
server and export it; outside the kernel the exported function serves the notebook's code."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import nuserve
from nuserve.cli.main import main
from nuserve.errors import ConfigError

pytestmark = pytest.mark.integration

CELLS = [
    ("markdown", "# A model written in a notebook"),
    ("code", "import json\nunused_before_start = 1"),
    ("code", "# mlrun: start-code\nimport nuserve"),
    (
        "code",
        "%env NUSERVE_NOTEBOOK_DEMO=1\n"
        "!echo exploring\n"
        "class Scaler(nuserve.V2ModelServer):\n"
        "    def load(self):\n"
        "        self.factor = FACTOR\n"
        "    def predict(self, body):\n"
        "        return [x * self.factor for x in body['inputs']]",
    ),
    ("code", "FACTOR = 2"),
    ("code", "# mlrun: ignore\nFACTOR = 3  # tried in the notebook only"),
    ("code", "# mlrun: end-code"),
    (
        "code",
        "fn = nuserve.code_to_function('scaler')\n"
        "fn.add_model('s', class_name='Scaler')\n"
        "answer = fn.to_mock_server().test('/v2/models/s/infer', {'inputs': [1, 2]})\n"
        "fn.export('scaler.yaml')\n"
        "print(json.dumps({'filename': fn.spec.filename, 'outputs': answer['outputs']}))",
    ),
]


def _notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    for kind, source in CELLS:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    nbformat.write(nb, path)


def _run(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    streams = [o["text"] for o in nb.cells[-1].outputs if o.get("output_type") == "stream"]
    return json.loads(streams[-1].strip().splitlines()[-1])


def test_a_notebook_serves_its_own_code(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    # what Jupyter Server gives a kernel it starts for a notebook (ipykernel: __session__)
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "scaler.ipynb"))
    _notebook(tmp_path / "scaler.ipynb")
    result = _run(tmp_path / "scaler.ipynb")

    # kept relative to the kernel's working directory (the notebook's), so the yaml travels
    assert result["filename"] == "scaler.ipynb"
    # in the kernel the class sees the kernel's globals, as MLRun's mock server does
    assert result["outputs"] == [3, 6]

    # outside: the exported function imports the notebook's marked cells only
    monkeypatch.chdir(tmp_path)
    fn = nuserve.import_function(str(tmp_path / "scaler.yaml"))
    answer = fn.to_mock_server().test("/v2/models/s/infer", {"inputs": [1, 2]})
    assert answer["outputs"] == [2, 4]

    # and the CLI's path (a GraphServer with the yaml's folder as code directory), elsewhere
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    capsys.readouterr()
    body = '{"inputs": [4]}'
    assert (
        main(["invoke", str(tmp_path / "scaler.yaml"), "/v2/models/s/infer", "--body", body]) == 0
    )
    assert json.loads(capsys.readouterr().out)["outputs"] == [8]


def test_a_notebook_file_named_outside_a_kernel(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    _notebook(tmp_path / "scaler.ipynb")
    fn = nuserve.code_to_function("scaler", filename="scaler.ipynb")
    fn.add_model("s", class_name="Scaler")
    answer = fn.to_mock_server().test("/v2/models/s/infer", {"inputs": [5]})
    assert answer["outputs"] == [10]


def test_contradicting_markers_fail_at_code_to_function(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# mlrun: end-code"),
        nbformat.v4.new_code_cell("# mlrun: end-code"),
    ]
    nbformat.write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(ConfigError, match=r'bad.ipynb: cell 2: a second "end-code"'):
        nuserve.code_to_function("bad", filename=str(tmp_path / "bad.ipynb"))


def test_outside_a_notebook_without_a_filename_there_is_no_code_file(monkeypatch) -> None:
    for name in ("JPY_SESSION_NAME", "JUPYTER_NOTEBOOK_FILE_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert nuserve.code_to_function("plain").spec.filename is None
