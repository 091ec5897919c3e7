"""MemorySink (``memory://name``): messages go to the in-process stream of that name
(``nuserve.streams.memory``), where a queue or a monitor of the same URL finds them."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import orjson

from nuserve.streams.memory import forget_memory_stream, memory_stream
from nuserve.tracking.sinks.base import Sink, SinkError


class MemorySink(Sink):
    """Keeps every delivered message; ``MemorySink.named(name)`` finds it from a test.

    ``down = True`` makes ``send`` fail (a sink outage); ``fail_next = n`` fails the next
    ``n`` calls only. Messages stay readable after ``close()``.
    """

    registry: ClassVar[dict[str, MemorySink]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str) -> None:
        self.url = f"memory://{name}"
        self.name = name
        self.stream = memory_stream(name)
        self.calls = 0
        self.down = False
        self.fail_next = 0
        self.closed = False

    @classmethod
    def named(cls, name: str) -> MemorySink:
        """The sink called ``name``, created on first use."""
        with cls._lock:
            sink = cls.registry.get(name)
            if sink is None:
                sink = cls.registry[name] = cls(name)
            return sink

    @classmethod
    def forget(cls, name: str) -> None:
        with cls._lock:
            cls.registry.pop(name, None)
            forget_memory_stream(name)

    @property
    def messages(self) -> list[bytes]:
        """Every message delivered (the stream's own list)."""
        return self.stream.messages

    def send(self, messages: list[bytes]) -> None:
        self.calls += 1
        if self.down or self.fail_next > 0:
            self.fail_next = max(0, self.fail_next - 1)
            raise SinkError(f"memory sink {self.name!r} is down")
        self.stream.extend(messages)

    def records(self) -> list[dict[str, Any]]:
        """Every record delivered, batched messages (JSON arrays) unpacked."""
        out: list[dict[str, Any]] = []
        for message in self.messages:
            value = orjson.loads(message)
            out.extend(value if isinstance(value, list) else [value])
        return out

    def close(self) -> None:
        self.closed = True
