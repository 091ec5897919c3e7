"""How many generations run at once (``slots``), and how many may wait (``max_queue``).

One more than that is refused at once, 503 with ``Retry-After``: a client told to come back
is better served than one left waiting behind a queue it cannot see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from nuserve.llm.errors import OpenAIError


class Admission:
    """A semaphore of ``slots`` with a bounded line in front of it."""

    def __init__(self, slots: int, max_queue: int, retry_after: int = 1) -> None:
        self.slots = slots
        self.max_queue = max_queue
        self.retry_after = retry_after
        self.running = 0
        self.waiting = 0
        self._semaphore: asyncio.Semaphore | None = None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncGenerator[None, None]:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        semaphore = self._semaphore
        if semaphore.locked() and self.waiting >= self.max_queue:
            raise OpenAIError(
                f"the model is busy: {self.running} generations run and {self.waiting} wait "
                f"(slots={self.slots}, max_queue={self.max_queue}); retry after "
                f"{self.retry_after} s",
                503,
                code="overloaded",
                headers={"Retry-After": str(self.retry_after)},
            )
        self.waiting += 1
        try:
            await semaphore.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            semaphore.release()
