"""``mkdocs build --strict`` passes, and the built site has what the reference promises.

``tests/run.sh`` builds the site too (before pytest); this test also checks the output: an
API entry (mkdocstrings' anchor) for every public name, a section for every CLI subcommand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nuserve
from nuserve.cli.main import parser
from tests.docs.site import ROOT

MKDOCS = Path(sys.executable).parent / "mkdocs"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which(str(MKDOCS)) is None:
        pytest.fail(f"{MKDOCS} is missing: pip install -e '.[docs]' (tests/run.sh does)")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_build_has_an_anchor_for_every_public_name(site: Path) -> None:
    html = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    for name in set(nuserve.__all__) - {"__version__"}:
        assert f'id="nuserve.{name}"' in html, name


def test_the_build_has_a_section_for_every_cli_subcommand(site: Path) -> None:
    html = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "nuserve-cli-reference" not in html
    for action in parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for name in action.choices:
            assert f'id="nuserve-{name}"' in html, name


def test_the_build_keeps_images_and_leaves_out_the_hooks(site: Path) -> None:
    assert (site / "monitoring" / "dashboard.png").is_file()
    assert (site / "flow" / "example.svg").is_file()
    assert not (site / "hooks").exists()


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    """--strict is not decoration: a link to a page that does not exist stops the build."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", repo / "docs")
    shutil.copy(ROOT / "mkdocs.yml", repo / "mkdocs.yml")
    for name in ("SECURITY.md",):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "bench", repo / "bench", ignore=shutil.ignore_patterns("*.py", "*.lua"))
    shutil.copytree(ROOT / "deploy", repo / "deploy")
    shutil.copytree(ROOT / "runtime", repo / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    page = repo / "docs" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-d", str(tmp_path / "out")],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no-such-page.md" in done.stdout + done.stderr
