"""Sources of tracking records: ``open_source(url)`` for the stream the tracker writes.

- ``file:///path/records.jsonl``: tails the JSON-lines file (a line may be a JSON array of
  records, the tracker's ``batch`` form). A size-rotated file is finished, then the new one
  is read from its start. ``?start=end`` skips what the file already holds.
- ``kafka://host:port?topic=t[&group=g][&offset=earliest|latest]``: a confluent-kafka
  consumer in group ``g`` (default ``nuserve-monitor``), imported when used; other query
  options go to librdkafka as they are. Offsets are committed automatically.
- ``v3io:///container/stream``: every shard of a v3io stream (``V3IO_API``,
  ``V3IO_ACCESS_KEY``), from its start (``?seek=latest`` for new records only).
- ``memory://name``: the in-process stream of that name (a ``MemorySink``'s, tests, notebooks).

``poll(timeout)`` returns the decoded records that arrived (possibly none) within about
``timeout`` seconds; a message that is not JSON comes back as ``None`` (counted as bad).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson

from nuserve.errors import ConfigError
from nuserve.streams import kafka
from nuserve.streams.file import FileTail
from nuserve.streams.memory import memory_stream
from nuserve.streams.url import SCHEMES, StreamURL, parse_stream_url
from nuserve.streams.v3io import V3ioSettings, v3io_client

logger = logging.getLogger("nuserve.monitoring.consumer")
MAX_BATCH = 1000


def decode(message: bytes) -> list[Any]:
    """One message as records: a JSON array is several, anything undecodable is ``None``."""
    try:
        value = orjson.loads(message)
    except orjson.JSONDecodeError:
        return [None]
    return value if isinstance(value, list) else [value]


class Source:
    """Base of the record sources."""

    url: str = ""

    def poll(self, timeout: float) -> list[Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the consumer or file."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


class FileSource(Source):
    def __init__(self, url: StreamURL) -> None:
        self.url = url.url
        self.tail = FileTail(url)

    def poll(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            records = [r for line in self.tail.read() for r in decode(line)]
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        self.tail.close()


class KafkaSource(Source):
    def __init__(self, url: StreamURL) -> None:
        self.url, self.topic = url.url, url.topic
        group = url.take("group", "nuserve-monitor")
        offset = url.take("offset", "earliest")
        self._consumer = kafka.consumer(
            ",".join(url.brokers),
            group,
            f"kafka stream {url.url}",
            **{"auto.offset.reset": offset, "enable.auto.commit": True, **url.options},
        )
        self._consumer.subscribe([self.topic])

    def poll(self, timeout: float) -> list[Any]:
        records: list[Any] = []
        for message in self._consumer.consume(MAX_BATCH, timeout):
            error = message.error()
            if error is not None:
                logger.warning("kafka stream %s: %s", self.url, kafka.describe(error))
                continue
            value = message.value()
            records.extend(decode(value) if value is not None else [None])
        return records

    def close(self) -> None:
        self._consumer.close()


class V3IOSource(Source):
    def __init__(self, url: StreamURL, settings: V3ioSettings) -> None:
        self.url = url.url
        seek = url.take("seek", "earliest").upper()
        url.no_more_options("v3io stream", ("seek",))
        if seek not in ("EARLIEST", "LATEST"):
            raise ConfigError(f"v3io stream {url.url!r}: seek must be earliest or latest")
        if not settings.access_key:
            raise ConfigError(f"v3io stream {url.url!r} needs V3IO_ACCESS_KEY")
        container, stream = url.container, url.path
        self.container, self.stream = container, stream
        self._client = v3io_client(url, settings)
        shards = self._client.stream.describe(container, stream).output.shard_count or 1
        self._locations = {
            shard: self._client.stream.seek(container, stream, shard, seek).output.location
            for shard in range(int(shards))
        }

    def poll(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            records: list[Any] = []
            for shard, location in self._locations.items():
                output = self._client.stream.get_records(
                    self.container, self.stream, shard, location, limit=MAX_BATCH
                ).output
                self._locations[shard] = output.next_location
                for item in output.records:
                    records.extend(decode(item.data))
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        self._client.close()


class MemorySource(Source):
    def __init__(self, url: StreamURL) -> None:
        self.url = url.url
        self.stream = memory_stream(url.name)
        self._read = 0

    def poll(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.stream.read(self._read)
            self._read += len(messages)
            if messages or time.monotonic() >= deadline:
                return [r for m in messages for r in decode(m)]
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))


def open_source(url: str, environ: Mapping[str, str] | None = None) -> Source:
    """The source for ``url`` (see the module doc); ``environ`` supplies the v3io settings."""
    parsed = parse_stream_url(url, "monitor stream", SCHEMES)
    if parsed.scheme == "file":
        return FileSource(parsed)
    if parsed.scheme == "kafka":
        return KafkaSource(parsed)
    if parsed.scheme == "v3io":
        return V3IOSource(parsed, V3ioSettings.from_environ(environ))
    return MemorySource(parsed)
