"""code_to_function from a notebook: nuclio-jupyter's markers, and a real Jupyter kernel."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import nuserve
from nuserve.function.notebook import code_of

CLASSES = """
class Double:
    def do(self, x):
        return x * 2
"""


def notebook(path: Path, cells: list[str]) -> Path:
    doc = {
        "cells": [
            {
                "cell_type": "code",
                "source": c,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "id": f"cell-{i}",
            }
            for i, c in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(doc))
    return path


def test_markers_choose_the_cells_and_magics_are_dropped():
    cells = ["import pandas  # exploring", "# mlrun: start-code", "%nuclio config x\nimport json",
             "# mlrun: ignore\nprint('debug')", "%%time\nslow()", "def f(x):\n    return x",
             "# mlrun: end-code", "f(1)"]  # fmt: skip
    assert code_of(cells) == "import json\n\ndef f(x):\n    return x\n"


def test_without_markers_every_code_cell_counts():
    assert code_of(["a = 1", "!pip install x\nb = 2"]) == "a = 1\n\nb = 2\n"


def test_code_to_function_from_an_ipynb_file(tmp_path):
    path = notebook(tmp_path / "nb.ipynb", ["x = 1", "# mlrun: start-code", CLASSES,
                                            "# mlrun: end-code"])  # fmt: skip
    fn = nuserve.code_to_function("nb", filename=str(path), kind="serving")
    fn.set_topology("flow", engine="sync").to("Double", name="d")
    assert fn.to_mock_server().test(body=21) == 42
    assert "class Double" in Path(fn.spec.filename).read_text()


KERNEL_CELLS = [
    "import nuserve",
    "# mlrun: start-code",
    CLASSES,
    "# mlrun: end-code",
    "# mlrun: ignore\n"
    "fn = nuserve.code_to_function('live', kind='serving')\n"
    "fn.set_topology('flow', engine='sync').to('Double', name='d')\n"
    "print('ANSWER', fn.to_mock_server(namespace={}).test(body=4))\n"
    "print('CODE', 'class Double' in open(fn.spec.filename).read())",
]


@pytest.mark.integration
def test_in_a_running_kernel_the_notebook_is_the_code(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    path = notebook(tmp_path / "live.ipynb", KERNEL_CELLS)
    doc = nbformat.reads(path.read_text(), as_version=4)
    client = nbclient.NotebookClient(doc, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
    client.execute()
    text = "".join(o.get("text", "") for c in doc.cells for o in c.get("outputs", []))
    assert "ANSWER 8" in text and "CODE True" in text, text
    assert sys.executable  # the kernel is this interpreter's ipykernel
