"""Throttle: bounded logging for things that may happen on every request or message."""

from __future__ import annotations

import time


class Throttle:
    """Lets one log line through per ``interval`` seconds and counts the ones it held back."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval, self.next_at, self.held = interval, 0.0, 0

    def allow(self) -> int | None:
        """``None`` to stay quiet, else how many lines were held back since the last one."""
        now = time.monotonic()
        if now < self.next_at:
            self.held += 1
            return None
        held, self.held, self.next_at = self.held, 0, now + self.interval
        return held

    def note(self, held: int) -> str:
        return f" ({held} similar lines held back)" if held else ""
