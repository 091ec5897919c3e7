"""Fixtures' progress lines reach the terminal while pytest captures output (no ``-s``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SLOW_FIXTURE = '''
import pytest
from tests.progress import say


@pytest.fixture(scope="session")
def slow(pytestconfig):
    say(pytestconfig, "starting something slow...")
    yield 1


def test_uses_it(slow):
    print("captured, not shown")
    assert slow == 1
'''


def test_say_writes_past_the_capture(tmp_path: Path) -> None:
    (tmp_path / "test_slow.py").write_text(SLOW_FIXTURE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[nuserve tests] starting something slow...\n" in done.stderr
    assert "captured, not shown" not in done.stdout + done.stderr
