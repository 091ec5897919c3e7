"""Which requests are tracked: one in N (a counter) and/or a random percentage."""

from __future__ import annotations

import itertools
import operator
import random
from collections.abc import Iterator

CYCLE_MAX = 10_000
"""Up to this ``sample``, one in N comes from a cycle of N flags (4x cheaper than ``i % N``)."""


class Sampler:
    """``keep()`` says whether to track the next request.

    ``sample=N`` keeps requests 0, N, 2N... exactly; ``percentage`` keeps each request with
    that probability, drawn from ``random.Random(seed)`` so tests and replays can fix the draw.
    The decisions come from ``plan``, an iterator built from itertools pieces: ``next(plan)``
    runs no Python code, so it is cheap on the request path (the tracker calls it inline)
    and atomic under the GIL, so threads share it safely.
    """

    def __init__(self, sample: int = 1, percentage: float = 100.0, seed: int | None = None) -> None:
        self.sample = sample
        self.share = percentage / 100.0
        every: Iterator[bool] | None = None
        chance: Iterator[bool] | None = None
        if 1 < sample <= CYCLE_MAX:
            every = itertools.cycle([True] + [False] * (sample - 1))
        elif sample > CYCLE_MAX:  # i % sample == 0, without a list of `sample` flags
            every = map(
                operator.not_, map(operator.mod, itertools.count(), itertools.repeat(sample))
            )
        if self.share < 1.0:
            rng = random.Random(seed)  # noqa: S311 - sampling, not security
            chance = map(self.share.__gt__, iter(rng.random, 2.0))  # draw < share
        if every is not None and chance is not None:
            self.plan: Iterator[bool] = map(operator.and_, every, chance)
        else:
            self.plan = every or chance or itertools.repeat(True)

    @property
    def active(self) -> bool:
        """False when every request is kept."""
        return self.sample > 1 or self.share < 1.0

    def stop(self) -> None:
        """Keep nothing from now on."""
        self.plan = itertools.repeat(False)

    def keep(self) -> bool:
        return next(self.plan)
