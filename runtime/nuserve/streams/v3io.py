"""v3io (``v3io://[host:port]/<container>/<stream path>``): the one place v3io clients are made.

The web API is the URL's host when it names one, else ``V3IO_API``, else the address inside an
Iguazio cluster (``V3IO_WEBAPI``, the v3io trigger's default too); the access key is
``V3IO_ACCESS_KEY``. The environment is read by the caller at its entry point and handed in
as ``V3ioSettings``, never inside a step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nuserve.streams.base import Stream, encode
from nuserve.streams.url import StreamURL, parse_stream_url

log = logging.getLogger("nuserve.streams.v3io")
V3IO_WEBAPI = "http://v3io-webapi:8081"
"""The v3io web API inside an Iguazio cluster."""
MAX_RECORDS = 1000
"""The most records one PutRecords call carries (the API's limit)."""


@dataclass(frozen=True)
class V3ioSettings:
    """What the environment says about v3io: ``V3IO_API`` and ``V3IO_ACCESS_KEY``."""

    api: str | None = None
    access_key: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> V3ioSettings:
        env = os.environ if environ is None else environ
        return cls(env.get("V3IO_API"), env.get("V3IO_ACCESS_KEY"))

    def endpoint(self, url: StreamURL) -> str:
        if url.host:
            return f"http://{url.host}"
        return self.api or V3IO_WEBAPI


class SdkLog:
    """The logger interface the v3io SDK calls (``debug_with``...), onto Python logging."""

    def __init__(self, target: logging.Logger) -> None:
        self.target = target

    def _with(self, level: int, message: str, *args: Any, **fields: Any) -> None:
        if self.target.isEnabledFor(level):
            extra = " ".join(f"{k}={v!r}" for k, v in fields.items())
            self.target.log(level, "%s %s", message % args if args else message, extra)

    def debug_with(self, message: str, *args: Any, **fields: Any) -> None:
        self._with(logging.DEBUG, message, *args, **fields)

    def info_with(self, message: str, *args: Any, **fields: Any) -> None:
        self._with(logging.INFO, message, *args, **fields)

    def warn_with(self, message: str, *args: Any, **fields: Any) -> None:
        self._with(logging.WARNING, message, *args, **fields)

    def error_with(self, message: str, *args: Any, **fields: Any) -> None:
        self._with(logging.ERROR, message, *args, **fields)

    debug, info, warn, error = debug_with, info_with, warn_with, error_with


def v3io_client(url: StreamURL, settings: V3ioSettings, **options: Any) -> Any:
    """A ``v3io.dataplane.Client`` for ``url`` (the SDK is imported here, when one is made)."""
    import v3io.dataplane  # noqa: PLC0415 - only functions that use v3io need it

    return v3io.dataplane.Client(
        endpoint=settings.endpoint(url),
        access_key=settings.access_key,
        logger=SdkLog(log),
        **options,
    )


class V3ioStream(Stream):
    """Publishes to a v3io stream, one record per event."""

    def __init__(self, path: str, settings: V3ioSettings | None = None) -> None:
        super().__init__(path)
        url = parse_stream_url(path, "v3io stream", ("v3io",))
        url.no_more_options("v3io stream")
        self.container, self.stream_path = url.container, url.path
        self.client = v3io_client(url, settings or V3ioSettings.from_environ())

    def publish(self, body: Any) -> Any:
        records = [{"data": encode(body)}]
        self.client.stream.put_records(self.container, self.stream_path, records)
        return body

    def close(self) -> None:
        self.client.close()
