"""FileSink (``file:///path/records.jsonl``): JSON lines, rotated by size.

One line per *message*: with ``batch=1`` a line is one record (JSON Lines proper); with
``batch=N`` a line is a JSON array of N records. A reader that accepts both shapes is
``MemorySink.records``'s rule: a line that decodes to a list holds several records.

Options: ``?max_bytes=67108864&max_files=5``. When the file would pass ``max_bytes`` it is
renamed ``<path>.1`` (older ones shift to ``.2``...), and at most ``max_files`` files are kept
in all (the current one included).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import BinaryIO

from nuserve.errors import ConfigError
from nuserve.tracking.sinks.base import Sink, SinkError, int_option, split_url

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_FILES = 5


class FileSink(Sink):
    """Appends messages to a file, one per line; ``send`` returns once the OS has them."""

    def __init__(self, url: str) -> None:
        self.url = url
        _, netloc, path, options = split_url(url)
        self.path = Path(netloc + path)
        if not str(self.path) or str(self.path) == ".":
            raise ConfigError(f"file sink URL {url!r} has no path; use file:///dir/records.jsonl")
        self.max_bytes = int_option(options, "max_bytes", DEFAULT_MAX_BYTES, url)
        self.max_files = int_option(options, "max_files", DEFAULT_MAX_FILES, url)
        if options:
            raise ConfigError(
                f"file sink URL {url!r} has unknown options {sorted(options)}; "
                "known: max_bytes, max_files"
            )
        if self.max_bytes < 1 or self.max_files < 1:
            raise ConfigError(f"max_bytes and max_files in {url!r} must be >= 1")
        self._file: BinaryIO | None = None
        self._size = 0

    def _open(self) -> BinaryIO:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
            self._size = self._file.tell()
        return self._file

    def rotated_paths(self) -> list[Path]:
        """The current file then the rotated ones, newest first (those that exist)."""
        names = [self.path] + [self._numbered(i) for i in range(1, self.max_files)]
        return [p for p in names if p.exists()]

    def _numbered(self, i: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{i}")

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        oldest = self._numbered(self.max_files - 1) if self.max_files > 1 else self.path
        oldest.unlink(missing_ok=True)
        for i in range(self.max_files - 2, 0, -1):
            if self._numbered(i).exists():
                self._numbered(i).replace(self._numbered(i + 1))
        if self.max_files > 1 and self.path.exists():
            self.path.replace(self._numbered(1))

    def send(self, messages: list[bytes]) -> None:
        """Write the lines in as few ``write`` calls as rotation allows.

        Each write releases the GIL, and getting it back from a busy request thread can take
        a whole switch interval (5 ms): one write per call keeps the sender fast.
        """
        done = 0
        try:
            handle = self._open()
            while done < len(messages):
                room = self.max_bytes - self._size
                end, size = done, 0
                while end < len(messages) and (
                    size + len(messages[end]) + 1 <= room or end == done
                ):
                    size += len(messages[end]) + 1
                    end += 1
                if self._size and size > room:
                    self._rotate()
                    handle = self._open()
                    continue
                handle.write(b"\n".join(messages[done:end]) + b"\n")
                self._size += size
                done = end
            handle.flush()
        except OSError as exc:
            self._drop_handle()
            raise SinkError(
                f"cannot write {self.path}: {exc}", failed=range(done, len(messages))
            ) from exc

    def _drop_handle(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        self._drop_handle()
