"""What the documentation tests read: the site's pages and their fenced code blocks.

A page is a Markdown file under ``docs/`` (the hooks and example files excluded, as
``mkdocs.yml`` excludes them); a ``--8<-- "path"`` line (pymdownx.snippets) is replaced by the
file it names, as the site build does, so an example included from ``deploy/README.md`` or
``SECURITY.md`` counts as one of the page's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::(\d*))?(?::(\d*))?"$', re.M)
"""A snippet line: ``--8<-- "path"`` or ``--8<-- "path:first[:last]"`` (lines, from 1)."""
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')
EXCLUDED = ("hooks", "examples")
DASHBOARD_SCREENSHOT = DOCS / "monitoring" / "dashboard.png"
"""The dashboard picture the monitoring page shows; the headless-browser test
(``tests/integration/test_monitoring_dashboard.py``) writes it with ``NUSERVE_UPDATE_DOCS=1``."""


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, the rest of its info string, its text."""

    language: str
    info: str
    text: str

    @property
    def fragment(self) -> bool:
        """Marked ``{.fragment}``: lines to read, not a program (compiled, not run)."""
        return ".fragment" in self.info

    @property
    def notebook_cell(self) -> bool:
        """Info ``cell``: a notebook's cell (``!``/``%`` lines and all), which
        tests/unit/notebook/test_docs.py runs in a real Jupyter kernel, not as a script."""
        return self.info.split()[:1] == ["cell"]

    @property
    def title(self) -> str | None:
        """``title="x.py"``: the block is also written to that file before the page runs."""
        match = TITLE.search(self.info)
        return match.group(1) if match else None


def pages() -> list[Path]:
    return sorted(
        p for p in DOCS.rglob("*.md") if not set(p.relative_to(DOCS).parts) & set(EXCLUDED)
    )


def page_text(page: Path) -> str:
    """The page as the site renders it: snippet lines replaced by the files they name."""

    def include(match: re.Match[str]) -> str:
        for base in (ROOT, DOCS):
            candidate = base / match.group(1)
            if candidate.is_file():
                lines = candidate.read_text(encoding="utf-8").splitlines(keepends=True)
                first, last = int(match.group(2) or 1), int(match.group(3) or len(lines))
                return "".join(lines[first - 1 : last])
        raise AssertionError(f"{page}: snippet {match.group(1)} not found")

    return SNIPPET.sub(include, page.read_text(encoding="utf-8"))


def blocks(page: Path) -> list[Block]:
    found = []
    for match in BLOCK.finditer(page_text(page)):
        info = match.group(1).strip()
        if info.startswith("{"):  # {.python .fragment}
            language = info.strip("{}").split()[0].lstrip(".")
        else:
            language, _, info = info.partition(" ")
        found.append(Block(language, info, match.group(2)))
    return found
