"""Where a hub's files are read from: a local directory, ``file://`` or ``http(s)://``."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path, PurePosixPath

from nuserve.errors import ConfigError

TIMEOUT_S = 10.0
MAX_FILE_BYTES = 64 * 1024 * 1024
_SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def safe_relative(name: str, what: str) -> PurePosixPath:
    """``name`` as a relative path inside the hub (no ``..``, no absolute, plain parts):
    a hub's index is data from elsewhere, and may not write outside the cache."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or not all(_SAFE_PART.match(p) for p in path.parts):
        raise ConfigError(f"{what} {name!r} is not a plain relative path inside the hub")
    return path


class HubSource:
    """One hub: ``location`` is a directory path, or a ``file://`` / ``http(s)://`` URL."""

    def __init__(self, location: str | Path) -> None:
        text = str(location)
        parts = urllib.parse.urlsplit(text)
        self.location = text
        self.remote = parts.scheme in ("http", "https")
        if parts.scheme == "file":
            self.root: Path | None = Path(urllib.parse.unquote(parts.path))
        elif self.remote:
            self.root = None
            self.base = text if text.endswith("/") else text + "/"
        elif parts.scheme and len(parts.scheme) > 1:
            raise ConfigError(f"hub {text!r}: use a directory, file:///path or http(s)://host/path")
        else:
            self.root = Path(text)
        if self.root is not None and not self.root.is_dir():
            raise ConfigError(f"hub directory {str(self.root)!r} not found (cwd is {Path.cwd()})")

    def read(self, relative: PurePosixPath) -> bytes:
        """The bytes of one file of the hub; a missing file names where it was looked for."""
        if self.root is not None:
            file = self.root / relative
            if not file.is_file():
                raise ConfigError(f"hub file {str(file)!r} not found")
            return file.read_bytes()
        import urllib.error  # noqa: PLC0415 - http.client only when a hub is remote
        import urllib.request  # noqa: PLC0415

        url = urllib.parse.urljoin(self.base, str(relative))
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:  # noqa: S310 - http(s) only
                data: bytes = reply.read(MAX_FILE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise ConfigError(f"hub file {url} answered {exc.code} {exc.reason}") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"hub file {url} cannot be read: {exc}") from None
        if len(data) > MAX_FILE_BYTES:
            raise ConfigError(f"hub file {url} is over {MAX_FILE_BYTES} bytes")
        return data
