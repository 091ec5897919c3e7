"""docs/hub.md's examples, run as written and in order (python blocks in one namespace each,
bash blocks with this environment's nuserve) in an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[3] / "docs" / "hub.md"
BLOCK = re.compile(r"^```(python|bash)\n(.*?)^```", re.M | re.S)


def test_the_documented_examples_run(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("NUSERVE_HUB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert [language for language, _ in blocks] == ["bash", "python", "python", "bash", "python"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for language, code in [*blocks[1:], blocks[0]]:  # the listing after my-hub exists
        if language == "python":
            exec(compile(code, str(DOC), "exec"), {})
        else:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", code],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
    assert "doubler" in done.stdout and "remote-flow" in done.stdout
