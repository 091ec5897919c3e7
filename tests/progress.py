"""Progress lines from fixtures, shown while pytest captures output (no ``-s`` needed).

A session fixture that takes long (the Kafka broker's start, its jars' first fetch) once left
pytest at ``[0%]`` for minutes with no word of what it waited for. ``say`` writes past the
capture, to the terminal's stderr, on a line of its own.
"""

from __future__ import annotations

import contextlib
import sys

import pytest


def say(config: pytest.Config, text: str) -> None:
    """Write ``text`` to stderr now, as ``[nuserve tests] text``, whatever the capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    paused = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
    with paused:
        sys.stderr.write(f"\n[nuserve tests] {text}\n")
        sys.stderr.flush()
