"""load_code_module imports a notebook as the code its markers keep."""

from __future__ import annotations

import sys

import nbformat
import pytest

from nuserve.errors import ConfigError
from nuserve.resolve import load_code_module


def _write(path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


def test_a_notebook_module_holds_the_kept_cells_only(tmp_path) -> None:
    _write(
        tmp_path / "nbmod.ipynb",
        "left_out = 1",
        "# mlrun: start-code\nkept = 2",
        "# mlrun: ignore\nignored = 3",
        "%timeit kept\nalso = kept + 1",
        "# mlrun: start-code fn2\nfor_fn2 = 4",
    )
    module = load_code_module("nbmod.ipynb", [tmp_path])
    names = {n for n in vars(module) if not n.startswith("__")}
    assert names == {"kept", "also", "for_fn2"}
    assert module.__file__ == str((tmp_path / "nbmod.ipynb").resolve())


def test_markers_named_for_the_function_pick_its_cells(tmp_path) -> None:
    _write(
        tmp_path / "named.ipynb",
        "a = 1",
        "# mlrun: start-code fn2\nb = 2",
        "# mlrun: end-code fn2",
        "c = 3",
    )
    module = load_code_module(str(tmp_path / "named.ipynb"), function_name="fn2")
    assert {n for n in vars(module) if not n.startswith("__")} == {"b"}


def test_a_bad_notebook_is_a_config_error_and_leaves_no_module(tmp_path) -> None:
    _write(tmp_path / "broken.ipynb", "# mlrun: start-code", "# mlrun: start-code")
    with pytest.raises(ConfigError, match=r'broken.ipynb: cell 2: a second "start-code"'):
        load_code_module(str(tmp_path / "broken.ipynb"))
    assert "nuserve_code_broken" not in sys.modules
