"""RecordBuffer: the bounded queue between the request path and the sender thread.

A ``deque(maxlen=n)`` drops its oldest item when full, and its ``append``/``popleft`` are
atomic, so the request path takes no lock. Drops are not counted on the request path
(that would race with the sender's pops); they follow exactly from the other counters:
``dropped = put - taken - len(queue)``.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque

from nuserve.tracking.record import Item


class RecordBuffer:
    """Bounded FIFO of tracked items; a full buffer forgets the oldest."""

    def __init__(self, size: int, wake_at: int | None = None) -> None:
        self.size = size
        self.wake_at = min(wake_at or size, size)
        """A put that brings the queue to this length wakes the sender early."""
        self.ready = threading.Event()
        self.items: deque[Item] = deque(maxlen=size)
        self.puts = itertools.count(1)
        """Counts puts: ``next()`` on it is atomic, ``+= 1`` on an int is not."""
        self._reads = 0
        self._read_lock = threading.Lock()
        self._woken = False
        self.taken = 0
        """Items removed by ``take`` (the sender thread only writes it)."""

    def put(self, item: Item) -> None:
        """Queue ``item`` (the tracker inlines these lines on its hot path)."""
        next(self.puts)
        items = self.items
        items.append(item)
        if len(items) >= self.wake_at:
            self.wake()

    def wake(self) -> None:
        if not self._woken:
            self._woken = True
            self.ready.set()

    def wait(self, timeout: float) -> None:
        """Sleep until ``timeout`` passes or the queue reaches ``wake_at`` (sender side)."""
        self.ready.wait(timeout)
        self.ready.clear()
        self._woken = False

    def oldest_start(self) -> float | None:
        """The start time of the oldest queued item (``None`` when empty)."""
        try:
            return self.items[0][1]
        except IndexError:
            return None

    def take(self, count: int) -> list[Item]:
        """Up to ``count`` of the oldest items (called by one consumer thread).

        ``taken`` grows before the pops, so counts read meanwhile never miss an item: the
        queue only shrinks by these pops (a put on a full queue keeps its length).
        """
        items = self.items
        n = min(count, len(items))
        self.taken += n
        pop = items.popleft
        return [pop() for _ in range(n)]

    def __len__(self) -> int:
        return len(self.items)

    def put_count(self) -> int:
        """Items ever put (reads the counter without a lock on the request path)."""
        with self._read_lock:
            self._reads += 1
            return next(self.puts) - self._reads

    def counts(self) -> tuple[int, int, int, int]:
        """``(put, queued, taken, dropped)``; exact whenever no put or take is in progress."""
        put = self.put_count()
        queued = len(self.items)  # before ``taken``: a take in between only overcounts
        taken = self.taken
        return put, queued, taken, max(0, put - taken - queued)
