"""Import a notebook as a module: its code (``notebook_code``) compiled by importlib."""

from __future__ import annotations

import importlib.abc
from pathlib import Path

from nuserve.notebook.cells import notebook_code


class NotebookLoader(importlib.abc.SourceLoader):
    """``importlib``'s source loader over a notebook's code (no bytecode cache: the code is
    regenerated from the notebook at each import)."""

    def __init__(self, path: Path, function_name: str = "") -> None:
        self.path = path
        self.function_name = function_name

    def get_filename(self, fullname: str) -> str:
        return str(self.path)

    def get_data(self, path: str) -> bytes:
        return notebook_code(self.path, self.function_name).encode("utf-8")
