"""``docs/flow/README.md``'s code draws exactly the checked-in ``docs/flow/example.svg``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs" / "flow"


def test_the_readme_code_draws_the_checked_in_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S)
    assert code is not None and "graph.plot(" in code.group(1)
    (tmp_path / "docs" / "flow").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    exec(compile(code.group(1), "docs/flow/README.md", "exec"), {})
    drawn = (tmp_path / "docs" / "flow" / "example.svg").read_text(encoding="utf-8")
    assert drawn == (DOCS / "example.svg").read_text(encoding="utf-8"), (
        "docs/flow/example.svg is stale: run the README's code from the repository root"
    )
