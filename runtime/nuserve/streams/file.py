"""Files (``file:///path/records.jsonl``): one message per line, written with size rotation
and read by tailing, so a tracker and a monitor on one machine meet in one file.

Writer options: ``?max_bytes=67108864&max_files=5``. When the file would pass ``max_bytes`` it
is renamed ``<path>.1`` (older ones shift to ``.2``...), and at most ``max_files`` files are kept
in all (the current one included). The reader finishes a rotated file, then reads the new one
from its start; ``?start=end`` skips what the file already holds.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from nuserve.errors import ConfigError
from nuserve.streams.url import StreamURL

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_FILES = 5
READ_CHUNK = 4 * 1024 * 1024


class PartialWrite(OSError):
    """Writing failed after ``done`` of the messages were written."""

    def __init__(self, done: int, cause: OSError) -> None:
        super().__init__(str(cause))
        self.done = done


class RotatingFile:
    """Appends messages, one per line; ``append`` returns once the OS has them."""

    def __init__(self, url: StreamURL) -> None:
        self.path = Path(url.path)
        self.max_bytes = url.take_int("max_bytes", DEFAULT_MAX_BYTES)
        self.max_files = url.take_int("max_files", DEFAULT_MAX_FILES)
        url.no_more_options("file stream", ("max_bytes", "max_files"))
        if self.max_bytes < 1 or self.max_files < 1:
            raise ConfigError(f"max_bytes and max_files in {url.url!r} must be >= 1")
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

    def append(self, messages: list[bytes]) -> None:
        """Write the lines in as few ``write`` calls as rotation allows, or raise
        ``PartialWrite``.

        Each write releases the GIL, and getting it back from a busy request thread can take
        a whole switch interval (5 ms): one write per call keeps the writer fast.
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
            self.close()
            raise PartialWrite(done, exc) from exc

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


class FileTail:
    """Reads the lines appended to a file since the last ``read``, across rotations."""

    def __init__(self, url: StreamURL) -> None:
        self.path = Path(url.path)
        start = url.take("start", "beginning")
        url.no_more_options("file stream", ("start",))
        if start not in ("beginning", "end"):
            raise ConfigError(
                f"file stream {url.url!r}: start must be 'beginning' or 'end' (got {start!r})"
            )
        self._file: BinaryIO | None = None
        self._inode: int | None = None
        self._partial = b""
        self._skip = start == "end"

    def _open(self) -> bool:
        try:
            self._file = self.path.open("rb")
        except FileNotFoundError:
            return False
        self._inode = os.fstat(self._file.fileno()).st_ino
        if self._skip:
            self._file.seek(0, os.SEEK_END)
            self._skip = False
        return True

    def read(self) -> list[bytes]:
        """The complete lines written since the last call (none while the file is absent)."""
        if self._file is None and not self._open():
            return []
        assert self._file is not None
        chunk = self._file.read(READ_CHUNK)
        if not chunk and self._rotated():
            self._file.close()
            self._file, self._partial = None, b""
            return self.read() if self._open() else []
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        return [line for line in lines if line.strip()]

    def _rotated(self) -> bool:
        try:
            return os.stat(self.path).st_ino != self._inode
        except FileNotFoundError:
            return False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
