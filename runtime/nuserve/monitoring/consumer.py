"""Sources of tracking records: ``open_source(url)`` for the stream the tracker writes.

- ``file:///path/records.jsonl``: tails the JSON-lines file (a line may be a JSON array of
  records, the tracker's ``batch`` form). A size-rotated file is finished, then the new one
  is read from its start. ``?start=end`` skips what the file already holds.
- ``kafka://host:port?topic=t[&group=g][&offset=earliest|latest]``: a confluent-kafka
  consumer in group ``g`` (default ``nuserve-monitor``), imported when used; other query
  options go to librdkafka as they are. Offsets are committed automatically.
- ``v3io:///container/stream``: every shard of a v3io stream (``V3IO_API``,
  ``V3IO_ACCESS_KEY``), from its start (``?seek=latest`` for new records only).
- ``memory://name``: the in-process ``MemorySink`` of that name (tests, notebooks).

``poll(timeout)`` returns the decoded records that arrived (possibly none) within about
``timeout`` seconds; a message that is not JSON comes back as ``None`` (counted as bad).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from nuserve.errors import ConfigError
from nuserve.tracking.sinks.base import kafka_url, split_url
from nuserve.tracking.sinks.memory import MemorySink

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
    def __init__(self, url: str) -> None:
        self.url = url
        _, netloc, path, options = split_url(url)
        self.path = Path(netloc + path)
        start = options.pop("start", "beginning")
        if options or start not in ("beginning", "end") or not path:
            raise ConfigError(
                f"file stream {url!r}: use file:///dir/records.jsonl[?start=beginning|end]"
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

    def poll(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            records = self._read()
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _read(self) -> list[Any]:
        if self._file is None and not self._open():
            return []
        assert self._file is not None
        chunk = self._file.read(4 * 1024 * 1024)
        if not chunk and self._rotated():
            self._file.close()
            self._file, self._partial = None, b""
            return self._read() if self._open() else []
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        records: list[Any] = []
        for line in lines:
            if line.strip():
                records.extend(decode(line))
        return records

    def _rotated(self) -> bool:
        try:
            return os.stat(self.path).st_ino != self._inode
        except FileNotFoundError:
            return False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class KafkaSource(Source):
    def __init__(self, url: str) -> None:
        from confluent_kafka import Consumer, KafkaException  # noqa: PLC0415 - lazy client

        self.url = url
        example = "kafka://host:9092?topic=t"
        netloc, self.topic, options = kafka_url(url, "kafka stream", example)
        config = {
            "bootstrap.servers": netloc,
            "group.id": options.pop("group", "nuserve-monitor"),
            "auto.offset.reset": options.pop("offset", "earliest"),
            "enable.auto.commit": True,
            "logger": logger,
            **options,
        }
        try:
            self._consumer = Consumer(config)
        except KafkaException as exc:
            raise ConfigError(f"kafka stream {url!r}: bad consumer setting: {exc}") from exc
        self._consumer.subscribe([self.topic])

    def poll(self, timeout: float) -> list[Any]:
        records: list[Any] = []
        for message in self._consumer.consume(MAX_BATCH, timeout):
            error = message.error()
            if error is not None:
                logger.warning("kafka stream %s: %s", self.url, error)
                continue
            value = message.value()
            records.extend(decode(value) if value is not None else [None])
        return records

    def close(self) -> None:
        self._consumer.close()


class V3IOSource(Source):
    def __init__(self, url: str, api: str | None, access_key: str | None) -> None:
        import v3io.dataplane  # noqa: PLC0415 - lazy client

        self.url = url
        _, netloc, path, options = split_url(url)
        seek = options.pop("seek", "earliest").upper()
        container, _, stream = path.strip("/").partition("/")
        endpoint = f"http://{netloc}" if netloc else api
        if options or seek not in ("EARLIEST", "LATEST") or not container or not stream:
            raise ConfigError(
                f"v3io stream {url!r}: use v3io:///<container>/<stream path>[?seek=latest]"
            )
        if not endpoint or not access_key:
            raise ConfigError(f"v3io stream {url!r} needs V3IO_API and V3IO_ACCESS_KEY")
        self.container, self.stream = container, stream
        self._client = v3io.dataplane.Client(endpoint=endpoint, access_key=access_key)
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
    def __init__(self, url: str) -> None:
        self.url = url
        self.sink = MemorySink.named(url.split("://", 1)[1])
        self._read = 0

    def poll(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.sink.messages[self._read :]
            self._read += len(messages)
            if messages or time.monotonic() >= deadline:
                return [r for m in messages for r in decode(m)]
            time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))


def open_source(url: str, environ: Mapping[str, str] | None = None) -> Source:
    """The source for ``url`` (see the module doc); ``environ`` supplies the v3io settings."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "file":
        return FileSource(url)
    if scheme == "kafka":
        return KafkaSource(url)
    if scheme == "v3io":
        env = os.environ if environ is None else environ
        return V3IOSource(url, env.get("V3IO_API"), env.get("V3IO_ACCESS_KEY"))
    if scheme == "memory" and url.split("://", 1)[1]:
        return MemorySource(url)
    raise ConfigError(
        f"monitor stream {url!r} has unknown scheme {scheme or '(none)'!r}; use kafka://, "
        "file://, v3io:// or memory://"
    )
