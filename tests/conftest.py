"""Shared test setup: the repo root on sys.path so tests import ``tests.models`` and friends."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Servers the integration tests share, one per session: a real Kafka broker and PostgreSQL.
pytest_plugins = ["tests.kafka.fixtures", "tests.postgres"]


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random-weight GGUF model (``tests/tiny_gguf.py``), written once per session."""
    from tests.tiny_gguf import write_tiny_gguf

    return write_tiny_gguf(tmp_path_factory.mktemp("llm") / "tiny.gguf")


@pytest.fixture(scope="session")
def slow_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wider random-weight GGUF (about 3 ms a token here), for tests that need a
    generation to last (timeouts)."""
    from tests.tiny_gguf import write_tiny_gguf

    path = tmp_path_factory.mktemp("llm-slow") / "slow.gguf"
    return write_tiny_gguf(path, n_embd=512, n_layer=6, n_ff=1536)
