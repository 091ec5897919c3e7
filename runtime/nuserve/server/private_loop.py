"""The event loop a server drives from sync code (Nuclio's sync handler, the mock server).

``loop.run_until_complete`` raises when the calling thread already runs a loop, and that is
the normal case in two places a sync caller lives: Nuclio's Python wrapper calls even a sync
handler (and ``init_context``) from a coroutine on its own loop, and Jupyter runs cells inside
one. There the private loop moves to a thread of its own, for good (tasks it holds, such as a
batcher's or tracking's, stay on one loop), and the caller waits for each result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import TypeVar

from nuserve.aio import awaited, caller_runs_a_loop

T = TypeVar("T")


class PrivateLoop:
    """A loop of the server's own: run in the caller's thread while it can be, else in its own."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def complete(self, awaitable: Awaitable[T]) -> T:
        """The result of ``awaitable``, run on this loop; the caller's thread waits for it."""
        loop = self._loop or self._new_loop()
        if self._thread is None:
            if not caller_runs_a_loop():
                return loop.run_until_complete(awaitable)
            self._thread = threading.Thread(
                target=loop.run_forever, name="nuserve-private-loop", daemon=True
            )
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(awaited(awaitable), loop).result()

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        self._loop = asyncio.new_event_loop()
        return self._loop

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None:
            return
        if thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
        if not loop.is_running():
            loop.close()
