"""``memory://name``: one in-process stream per name, shared by every user in the process.

A queue step, a tracking sink and the monitoring consumer given the same ``memory://`` URL
meet in the same stream, as httpx's ``MockTransport`` stands in for a network: tests and the
mock server run whole pipelines without a broker.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from nuserve.streams.base import Headers, Record, Stream, confirmed, encode


class MemoryStream(Stream):
    """Messages (bytes) collect in ``messages``; those given to ``send`` also in ``records``
    (with key and headers)."""

    blocking = False

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.messages: list[bytes] = []
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def publish(self, body: Any) -> Any:
        self.extend([encode(body)])
        return body

    def extend(self, messages: list[bytes]) -> None:
        with self._lock:
            self.messages.extend(messages)

    def send(
        self, data: bytes, key: bytes | None = None, headers: Headers | None = None
    ) -> Future[None]:
        with self._lock:
            self.messages.append(data)
            self.records.append(Record(data, key, dict(headers or {})))
        return confirmed()

    def read(self, start: int) -> list[bytes]:
        """The messages from index ``start`` on (a reader keeps its own position)."""
        with self._lock:
            return self.messages[start:]


_streams: dict[str, MemoryStream] = {}
_lock = threading.Lock()


def memory_stream(name: str) -> MemoryStream:
    """The memory stream ``memory://name`` (created on first use, shared in the process)."""
    with _lock:
        stream = _streams.get(name)
        if stream is None:
            stream = _streams[name] = MemoryStream(f"memory://{name}")
        return stream


def forget_memory_stream(name: str) -> None:
    """Drop ``memory://name``: the next ``memory_stream(name)`` starts empty."""
    with _lock:
        _streams.pop(name, None)
