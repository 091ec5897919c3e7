"""A real ``nuclio_sdk.Context`` for a worker of ``nuserve serve``, as Nuclio would build it."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import nuclio_sdk
import nuclio_sdk.logger

HANDLER_NAME = "nuserve-serve"
HTTP_TRIGGER = nuclio_sdk.TriggerInfo("http", "http")


class _Stderr:
    """The current ``sys.stderr`` (test runners swap it), for the Nuclio logger's handler."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def new_context(
    log_level: str, trigger: Any = HTTP_TRIGGER, platform: Any = None
) -> nuclio_sdk.Context:
    """A real Nuclio context: a stderr logger and a platform that needs no network (give one
    with an ``on_control_callback`` to receive explicit acks)."""
    level = getattr(logging, log_level.upper())
    logger = nuclio_sdk.Logger(level)
    logger.set_handler(HANDLER_NAME, _Stderr(), nuclio_sdk.logger.HumanReadableFormatter())
    for handler in logging.getLogger("nuclio_sdk").handlers:
        if handler.name == HANDLER_NAME:
            handler.setLevel(level)  # the SDK's Logger logs past its level check
    platform = platform or nuclio_sdk.Platform("local")
    return nuclio_sdk.Context(logger, platform, os.getpid(), trigger)
