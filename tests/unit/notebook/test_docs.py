"""docs/notebooks.md's example, run as written: its ``python cell`` blocks as a notebook in a
real Jupyter kernel, then its ``python`` block beside the exported function."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[3] / "docs" / "notebooks.md"
BLOCK = re.compile(r"^```python( cell)?\n(.*?)^```", re.M | re.S)


def test_the_documented_notebook_runs_and_answers_as_documented(tmp_path, monkeypatch) -> None:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    cells = [code for cell, code in blocks if cell]
    after = [code for cell, code in blocks if not cell]
    assert len(cells) == 7 and len(after) == 1
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code.rstrip("\n")) for code in cells]
    path = tmp_path / "scaler.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert printed == "scaler.ipynb [10, 20]"
    assert "prints `scaler.ipynb [10, 20]`" in DOC.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(after[0], str(DOC), "exec"), {})
