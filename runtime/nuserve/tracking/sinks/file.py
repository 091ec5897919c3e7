"""FileSink (``file:///path/records.jsonl``): JSON lines, rotated by size.

One line per *message*: with ``batch=1`` a line is one record (JSON Lines proper); with
``batch=N`` a line is a JSON array of N records. A reader that accepts both shapes is
``MemorySink.records``'s rule: a line that decodes to a list holds several records.
Rotation (``?max_bytes=...&max_files=...``) is ``nuserve.streams.file.RotatingFile``'s.
"""

from __future__ import annotations

from pathlib import Path

from nuserve.streams.file import PartialWrite, RotatingFile
from nuserve.streams.url import parse_stream_url
from nuserve.tracking.sinks.base import Sink, SinkError


class FileSink(Sink):
    """Appends messages to a file, one per line; ``send`` returns once the OS has them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.file = RotatingFile(parse_stream_url(url, "file sink URL", ("file",)))
        self.path, self.max_bytes, self.max_files = (
            self.file.path,
            self.file.max_bytes,
            self.file.max_files,
        )

    def rotated_paths(self) -> list[Path]:
        """The current file then the rotated ones, newest first (those that exist)."""
        return self.file.rotated_paths()

    def send(self, messages: list[bytes]) -> None:
        try:
            self.file.append(messages)
        except PartialWrite as exc:
            raise SinkError(
                f"cannot write {self.path}: {exc}", failed=range(exc.done, len(messages))
            ) from exc

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()
