"""Every Python example on the documentation site runs, so the docs cannot rot.

Per page, its ```` ```python ```` blocks (snippet-included files' blocks too) run in order as one
program, in a fresh directory holding a copy of ``examples/`` with the iris model trained in
``examples/iris/model`` (what ``examples/iris/run.sh`` leaves), with this environment's
``python`` and ``nuserve`` first on PATH. A block titled ``title="x.py"`` is also written to
``x.py`` first, so later blocks (and the reader) can import or build it. The examples assert
what they answer, so a changed answer fails here, not only a crash.

A page with notebook cells (```` ```python cell ````) is a notebook and what follows it: it
runs in a real Jupyter kernel, in tests/unit/notebook/test_docs.py. Blocks marked ``{.fragment}`` are compiled, not run. They are few, and each page that has one
is listed in ``FRAGMENTS`` with why: they deploy to a Kubernetes cluster (nuctl, a registry,
secrets; ``deploy/README.md``, included as a page), or they are MLRun's side of a comparison
(MLRun is not installed here, and must not be).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.site import DOCS, ROOT, Block, blocks, pages

FRAGMENTS = {
    "deploy.md": "deploy/README.md deploys to Kubernetes with nuctl, a registry and secrets",
    "protocols/openai.md": "the openai client needs a running server with a GGUF model "
    "(tests/integration/test_llm_openai_client.py makes the same calls)",
}
MAX_FRAGMENT_SHARE = 0.45
"""At most this share of all Python blocks may be fragments."""


def python_pages() -> list[Path]:
    found = []
    for page in pages():
        python = [b for b in blocks(page) if b.language == "python"]
        if python and not any(b.notebook_cell for b in python):
            found.append(page)
    return found


def relative(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


@pytest.fixture(scope="module")
def examples_with_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("docs-examples")
    shutil.copytree(ROOT / "examples", base / "examples", ignore=shutil.ignore_patterns("model"))
    subprocess.run(
        [sys.executable, "examples/iris/train.py"], cwd=base, check=True, capture_output=True
    )
    return base


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUSERVE_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    return env


def program(page_blocks: list[Block], cwd: Path) -> str:
    """The page's runnable blocks as one program; titled ones written to their files."""
    parts = []
    for block in page_blocks:
        if block.language != "python":
            continue
        if block.fragment:
            compile(block.text, f"fragment of {cwd.name}", "exec")
            continue
        if block.title:
            target = cwd / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        parts.append(block.text)
    return "\n".join(parts)


@pytest.mark.parametrize("page", python_pages(), ids=relative)
def test_the_python_examples_of_the_page_run(
    page: Path, examples_with_model: Path, tmp_path: Path
) -> None:
    cwd = tmp_path / "work"
    shutil.copytree(examples_with_model, cwd)
    (cwd / "docs" / "flow").mkdir(parents=True)
    page_blocks = blocks(page)
    if any(b.fragment for b in page_blocks):
        assert relative(page) in FRAGMENTS, f"{relative(page)} has a fragment: say why"
    code = program(page_blocks, cwd)
    if not code.strip():
        return  # only fragments (compiled above)
    (cwd / "page.py").write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "page.py"],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    # (not "no Traceback in stderr": examples of error handling log the model's traceback)
    assert done.returncode == 0, f"{relative(page)}\n{done.stdout}\n{done.stderr}"


def test_few_blocks_are_fragments_and_each_page_with_one_says_why() -> None:
    every = [(relative(p), b) for p in pages() for b in blocks(p) if b.language == "python"]
    fragments = [(page, b) for page, b in every if b.fragment]
    assert len(every) >= 30, len(every)
    assert len(fragments) <= MAX_FRAGMENT_SHARE * len(every), (len(fragments), len(every))
    assert {page for page, _ in fragments} == set(FRAGMENTS)  # each listed page has one


def test_a_failing_example_fails_the_page(tmp_path: Path) -> None:
    """The runner is not a no-op: a block that raises makes the program exit non-zero."""
    code = program([Block("python", "", "raise SystemExit(3)\n")], tmp_path)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == 3
