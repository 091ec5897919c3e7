"""A function's code from a Jupyter notebook, as nuclio-jupyter (MLRun's) reads it.

The code cells become one Python file: with a ``# mlrun: start-code`` cell, only the cells
after it count, up to a ``# mlrun: end-code`` cell; a cell marked ``# mlrun: ignore`` is
left out, and so are IPython magics and shell lines (``%nuclio ...``, ``%%time``, ``!pip``).
(nuclio-jupyter also reads ``# nuclio: ...`` markers; both spellings work.)

Called with no file inside a running kernel, the cells run so far (IPython's ``In``) stand
for the notebook: a kernel does not know its notebook's file name.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from nuserve.errors import ConfigError

MARKER = re.compile(r"^\s*#\s*(?:mlrun|nuclio)\s*:\s*(start-code|end-code|ignore)\s*$", re.M)


def cells_of(path: Path) -> list[str]:
    """The code cells' sources of a notebook file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read notebook {path}: {exc}") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if not isinstance(cells, list):
        raise ConfigError(f"{path} is not a Jupyter notebook (no 'cells' list)")
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def code_of(cells: list[str]) -> str:
    """The function's code from the cells, by nuclio-jupyter's markers."""
    marks = [set(MARKER.findall(cell)) for cell in cells]
    start = next((i for i, m in enumerate(marks) if "start-code" in m), None)
    chosen: list[str] = []
    taking = start is None
    for cell, mark in zip(cells, marks, strict=True):
        if "start-code" in mark:
            taking = True
            continue
        if "end-code" in mark:
            if taking and start is not None:
                break
            continue
        if not taking or "ignore" in mark:
            continue
        chosen.append(_without_magics(cell))
    return "\n\n".join(c for c in chosen if c.strip()) + "\n"


def _without_magics(cell: str) -> str:
    if cell.lstrip().startswith("%%"):
        return ""  # a cell magic makes the whole cell something else (%%nuclio, %%bash)
    lines = [line for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def notebook_to_file(path: Path, target_dir: Path | None = None) -> Path:
    """Write the notebook's function code to ``<notebook dir>/.nuserve/<stem>.py``."""
    code = code_of(cells_of(path))
    return _write(code, path.stem, target_dir or path.parent / ".nuserve")


def current_notebook_file(shell: Any, target_dir: Path | None = None) -> Path:
    """The code of the cells a running kernel (``get_ipython()``) has run so far."""
    history = list(shell.user_ns.get("In", []))[1:]
    code = code_of([str(cell) for cell in history if "code_to_function" not in str(cell)])
    digest = hashlib.sha256(code.encode()).hexdigest()[:12]
    return _write(code, f"notebook_{digest}", target_dir or Path.cwd() / ".nuserve")


def _write(code: str, stem: str, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{re.sub(r'[^A-Za-z0-9_]', '_', stem)}.py"
    target.write_text(code, encoding="utf-8")
    return target
