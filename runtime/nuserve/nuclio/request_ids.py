"""Request ids that are unique even when Nuclio's event ids are not.

Nuclio's processor keeps one event object per worker (per partition on Kafka) and sets its
id once, so every request a worker answers carries the same ``event.id``. An id nuserve
answers with (in the body, the ``X-Request-Id`` header, tracking records, output and
dead-letter keys, log lines) must tell requests apart: a client's ``X-Request-Id`` is kept
as it is, a trigger's id is kept the first time this worker sees it, and a missing or
repeated one is replaced by ``nuserve.event.new_event_id()`` (a per-process prefix and a
counter: cheap and unique within the process).
"""

from __future__ import annotations

from typing import Any

from nuserve.event import new_event_id

MAX_REMEMBERED = 4096
"""Trigger ids remembered; when full the memory starts again (a trigger whose ids are all
distinct then costs one dict insert per event, and a repeat is still seen within the window)."""


class RequestIds:
    """One worker's memory of the trigger event ids it has answered under."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[Any, None] = {}

    def pick(self, trigger_id: Any) -> str:
        """``trigger_id`` as text the first time it is seen; a fresh id when missing or seen."""
        seen = self._seen
        if trigger_id is None or trigger_id in {"", b""} or trigger_id in seen:
            return new_event_id()
        if len(seen) >= MAX_REMEMBERED:
            seen.clear()
        seen[trigger_id] = None
        if type(trigger_id) is str:
            return trigger_id
        if isinstance(trigger_id, bytes | bytearray):
            return trigger_id.decode("utf-8", "replace")
        return str(trigger_id)
