"""Which requests are tracked: one in N (a counter) and/or a random percentage."""

from __future__ import annotations

import itertools
import random


class Sampler:
    """``keep()`` says whether to track the next request.

    ``sample=N`` keeps requests 0, N, 2N... exactly (``itertools.count`` is atomic under
    the GIL, so threads share it safely); ``percentage`` keeps each request with that
    probability, from a ``random.Random(seed)`` so tests and replays can fix the draw.
    """

    def __init__(self, sample: int = 1, percentage: float = 100.0, seed: int | None = None) -> None:
        self.sample = sample
        self.share = percentage / 100.0
        self._counter = itertools.count()
        self._random = random.Random(seed).random  # noqa: S311 - sampling, not security

    @property
    def active(self) -> bool:
        """False when every request is kept (the tracker then skips ``keep`` altogether)."""
        return self.sample > 1 or self.share < 1.0

    def keep(self) -> bool:
        if self.sample > 1 and next(self._counter) % self.sample:
            return False
        return self.share >= 1.0 or self._random() < self.share
