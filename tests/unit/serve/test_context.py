"""The worker's Nuclio context and its bounded logging."""

from __future__ import annotations

import os

import nuclio_sdk
import pytest

from nuserve.serve.context import new_context
from nuserve.serve.throttle import Throttle


def test_context_is_nuclios_with_a_stderr_logger_at_the_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    context = new_context("warning")
    assert isinstance(context, nuclio_sdk.Context)
    assert context.worker_id == os.getpid()
    assert (context.trigger.kind, context.platform.kind) == ("http", "local")
    context.logger.info("quiet please")
    context.logger.warn("loud enough")
    err = capsys.readouterr().err
    assert "quiet please" not in err
    assert "[warning] loud enough" in err


def test_throttle_lets_one_line_through_per_interval() -> None:
    throttle = Throttle(interval=60)
    assert throttle.allow() == 0
    assert [throttle.allow() for _ in range(3)] == [None, None, None]
    throttle.next_at = 0.0  # the interval has passed
    assert throttle.allow() == 3
    assert throttle.note(3) == " (3 similar lines held back)"
    assert throttle.note(0) == ""
