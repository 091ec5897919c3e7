"""V3IOSink (``v3io://[host:port]/container/stream/path``): PutRecords through the v3io SDK.

The client comes from ``nuserve.streams.v3io`` (web API: the URL's host, else ``V3IO_API``;
access key ``V3IO_ACCESS_KEY``). One PutRecords call carries up to 1,000 records (the API's
limit); the response names the records that failed, and only those are retried.
"""

from __future__ import annotations

from nuserve.errors import ConfigError
from nuserve.streams.url import parse_stream_url
from nuserve.streams.v3io import MAX_RECORDS, V3ioSettings, v3io_client
from nuserve.tracking.sinks.base import Sink, SinkError


class V3IOSink(Sink):
    """Puts each message as one stream record."""

    def __init__(self, url: str, settings: V3ioSettings) -> None:
        self.url = url
        parsed = parse_stream_url(url, "v3io sink URL", ("v3io",))
        parsed.no_more_options("v3io sink URL")
        if not settings.access_key:
            raise ConfigError(f"v3io sink {url!r} needs an access key; set V3IO_ACCESS_KEY")
        self.container, self.stream_path = parsed.container, parsed.path
        self.endpoint = settings.endpoint(parsed)
        self._client = v3io_client(parsed, settings, max_connections=1)

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
                f"v3io stream {self.container}{self.stream_path}: {len(failed)} of "
                f"{len(messages)} record(s) not put ({reason})",
                failed=failed,
            )

    def close(self) -> None:
        self._client.close()
