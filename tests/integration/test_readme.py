"""README.md's examples, run as written: every fenced ``bash`` and ``python`` block, in order.

The blocks run in a copy of the repository (so the README's relative paths hold and the
checkout is left alone) with this environment's ``python`` and ``nuserve`` first on PATH, as
after ``. .venv/bin/activate``. The one change made to the text: port 8080 becomes a free
port, so that the test does not clash with a server already running. A python block whose
first line is ``# <file>.py`` is written to that file (the bash block after it runs it); one
marked ``python fragment`` (lines to pick from, not a program) must compile. The first two
blocks, the README's two commands, are not run here: ``tests/run.sh`` is the suite that runs this
test, and ``examples/iris/run.sh`` has its own test below.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_models import ROOT, free_port

pytestmark = pytest.mark.integration

BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.M | re.S)
TWO_COMMANDS = "bash examples/iris/run.sh\n"
SUITE = "bash tests/run.sh\n"
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.egg-info",
    ".hypothesis", ".nuserve", "model", "*.db",
)  # fmt: skip


def readme_blocks() -> list[tuple[str, str, str]]:
    """``(language, info, text)`` of each fenced block, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in BLOCK.finditer(text)]


def environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUSERVE_")}
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    return env


def run_bash(script: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with ``bash -e``; whatever it left running is killed afterwards."""
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_every_readme_example_runs_as_written(tmp_path: Path) -> None:
    repo = tmp_path / "nuserve"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    port = str(free_port())
    blocks = readme_blocks()
    assert blocks[:2] == [("bash", "", TWO_COMMANDS), ("bash", "", SUITE)], blocks[:2]
    outputs: list[str] = []
    ran = 0
    for language, info, text in blocks[2:]:
        if language == "python" and info == "fragment":
            compile(text, "README.md fragment", "exec")
            continue
        assert info == "", f"unknown block kind {language} {info}"
        if language == "python":
            first = text.splitlines()[0]
            named = re.fullmatch(r"# (\w+\.py)", first)
            assert named, f"a python block names its file on its first line (got {first!r})"
            (repo / named.group(1)).write_text(text, encoding="utf-8")
            continue
        assert language == "bash", language
        done = run_bash(text.replace("8080", port), repo)
        assert done.returncode == 0, f"{text}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        outputs.append(done.stdout + done.stderr)
        ran += 1
    assert ran >= 4  # the model files, the model, run it locally, openapi
    everything = "\n".join(outputs)
    # python my_model.py: both the unversioned model and v2 answered
    unversioned, v2 = re.findall(r"^\{'id': .*\}$", everything, re.M)[:2]
    assert "'model_name': 'model1', 'outputs': [0]" in unversioned
    assert "'model_version'" not in unversioned
    assert "'outputs': [2]" in v2 and "'model_version': 'v2'" in v2
    assert "wrote my_function.yaml for function 'my-serving', code file my_model.py" in everything
    assert f"nuserve serve: http://127.0.0.1:{port}, 2 workers" in everything
    assert everything.count(f" serving http://127.0.0.1:{port} ") == 2
    assert '"model_name":"model1","outputs":[0]' in everything  # nuserve invoke my_function.yaml
    assert '"model_name":"iris"' in everything
    assert "Traceback" not in everything


def test_the_iris_script_says_each_step_and_answers(tmp_path: Path) -> None:
    """``examples/iris/run.sh`` as the README's first command runs it, in this checkout with
    this environment (its pip install is then a no-op), on a free port."""
    env = environment()
    env["NUSERVE_VENV"] = str(Path(sys.executable).parent.parent)
    env["PORT"] = str(free_port())
    done = subprocess.run(
        ["bash", "examples/iris/run.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("== setting up", "== training the iris model", "== starting nuserve serve"):
        assert step in done.stderr, done.stderr
    assert "nuserve serve: worker " in done.stderr
    assert '"outputs":[0,2]' in done.stdout, done.stdout
