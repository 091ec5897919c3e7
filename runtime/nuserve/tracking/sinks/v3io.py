"""V3IOSink (``v3io:///container/stream/path``): PutRecords through the v3io Python SDK.

The web API URL is the URL's host (``v3io://webapi:8081/container/path``) or ``V3IO_API``;
the access key is ``V3IO_ACCESS_KEY``. One PutRecords call carries up to 1,000 records (the
API's limit); the response names the records that failed, and only those are retried.
"""

from __future__ import annotations

import logging
from typing import Any

from nuserve.errors import ConfigError
from nuserve.tracking.sinks.base import Sink, SinkError, split_url

logger = logging.getLogger("nuserve.tracking.v3io")
MAX_RECORDS = 1000


class _SdkLog:
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


class V3IOSink(Sink):
    """Puts each message as one stream record."""

    def __init__(self, url: str, api: str | None, access_key: str | None) -> None:
        import v3io.dataplane  # noqa: PLC0415 - lazy client

        self.url = url
        _, netloc, path, options = split_url(url)
        if options:
            raise ConfigError(f"v3io sink URL {url!r} takes no query options (got {options})")
        container, _, stream = path.strip("/").partition("/")
        if not container or not stream:
            raise ConfigError(
                f"v3io sink URL {url!r} needs a container and a stream path: "
                "v3io:///<container>/<stream path>"
            )
        endpoint = f"http://{netloc}" if netloc else api
        if not endpoint:
            raise ConfigError(
                f"v3io sink {url!r} has no web API URL; set V3IO_API or use v3io://<host:port>/..."
            )
        if not access_key:
            raise ConfigError(f"v3io sink {url!r} needs an access key; set V3IO_ACCESS_KEY")
        self.container, self.stream_path, self.endpoint = container, stream, endpoint
        self._client = v3io.dataplane.Client(
            endpoint=endpoint, access_key=access_key, max_connections=1, logger=_SdkLog(logger)
        )

    def send(self, messages: list[bytes]) -> None:
        failed: list[int] = []
        reason = ""
        for start in range(0, len(messages), MAX_RECORDS):
            chunk = messages[start : start + MAX_RECORDS]
            try:
                response = self._client.stream.put_records(
                    self.container, self.stream_path, [{"data": m} for m in chunk]
                )
                output = response.output
            except Exception as exc:  # noqa: BLE001 - HTTP and socket errors alike
                failed.extend(range(start, start + len(chunk)))
                reason = f"{type(exc).__name__}: {exc}"
                continue
            if output.failed_record_count:
                for i, result in enumerate(output.records):
                    if result.error_code:
                        failed.append(start + i)
                        reason = f"{result.error_code}: {result.error_message}"
        if failed:
            raise SinkError(
                f"v3io stream {self.container}/{self.stream_path}: {len(failed)} of "
                f"{len(messages)} record(s) not put ({reason})",
                failed=failed,
            )

    def close(self) -> None:
        self._client.close()
