"""Queue steps: a flow step that publishes the body to a stream and passes it on.

The function that runs the steps after the queue consumes the stream through a Nuclio trigger
(``nuserve.graph.split.child_trigger``). The streams themselves (Kafka, v3io, an in-process
``memory://`` stream) are ``nuserve.streams``'; this module only opens the one a step names.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import ConfigError
from nuserve.streams.base import Stream
from nuserve.streams.open import open_stream


def open_queue(path: str | None, options: dict[str, Any], step: str) -> Stream:
    """The stream a queue step's ``path`` names; ``options`` are the step's class_args."""
    if path is None:
        raise ConfigError(
            f"queue step {step!r} has no path; pass path='kafka://host:port?topic=t', "
            "'v3io:///<container>/<path>' or 'memory://<name>'"
        )
    return open_stream(path, f"queue step {step!r} path", **options)
