"""The one retry policy of stream I/O: exponential backoff with a ceiling.

Used by the tracking sender between deliveries that failed, and by the local Kafka trigger
before it hands an unacked message out again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Wait ``first`` seconds after the first failure, doubling each time, at most ``ceiling``."""

    first: float = 0.1
    ceiling: float = 5.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failures in a row (0 after none)."""
        if failures <= 0:
            return 0.0
        return float(min(self.ceiling, self.first * 2.0 ** (failures - 1)))
