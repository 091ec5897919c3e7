"""Streams that queue steps publish to: Kafka, v3io, and an in-process memory stream.

A queue step publishes the body (JSON bytes; bytes pass as they are) and passes it on. The
function that runs the steps after the queue consumes the stream through a Nuclio trigger
(``nuserve.graph.split.child_trigger``). Client libraries are imported when a stream is
built, never when this module is: ``confluent_kafka`` only for ``kafka://`` paths.

``memory://name`` publishes into a registry inside the process (``memory_stream(name)``), as
httpx ships ``MockTransport``: tests and the mock server use it without a broker.

``send(data, key, headers)`` is the confirmed form of ``publish`` used for output and
dead-letter streams (``nuserve.nuclio.stream_output``): it returns a future that is done once the
stream holds the message, so an offset is acked only after its answer is written.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import urllib.parse
from concurrent.futures import Future, InvalidStateError
from typing import Any, ClassVar, NamedTuple

from nuserve.codec import dump_json
from nuserve.errors import ConfigError, NotReady

log = logging.getLogger("nuserve.graph.queues")
V3IO_WEBAPI = "http://v3io-webapi:8081"
"""The v3io web API inside an Iguazio cluster (the v3io trigger's default too)."""


Headers = dict[str, str]


class Stream:
    """Where a queue step publishes: ``publish`` each body, ``close`` when the server closes."""

    blocking: ClassVar[bool] = True
    """``send`` does its I/O in the calling thread (an event loop runs it in a thread)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def publish(self, body: Any) -> Any:
        """Send ``body`` and return it (the queue passes the body on)."""
        raise NotImplementedError

    def send(
        self, data: bytes, key: bytes | None = None, headers: Headers | None = None
    ) -> Future[None]:
        """Publish ``data``; the future is done once the stream holds it (or has the error).

        This base publishes synchronously, so it is confirmed on return; key and headers are
        dropped (a v3io record has neither).
        """
        self.publish(data)
        return confirmed()

    def close(self) -> None:
        """Deliver what is pending (within the stream's flush timeout) and release clients."""


def encode(body: Any) -> bytes:
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return dump_json(body)


def confirmed() -> Future[None]:
    """A future already done: the message is delivered."""
    future: Future[None] = Future()
    future.set_result(None)
    return future


class Record(NamedTuple):
    """A message ``send`` put in a memory stream, with its key and headers."""

    value: bytes
    key: bytes | None
    headers: Headers


class MemoryStream(Stream):
    """An in-process stream: published messages (JSON bytes) collect in ``messages``, and
    those given to ``send`` also in ``records`` (with key and headers)."""

    blocking = False

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.messages: list[bytes] = []
        self.records: list[Record] = []
        self._lock = threading.Lock()

    def publish(self, body: Any) -> Any:
        data = encode(body)
        with self._lock:
            self.messages.append(data)
        return body

    def send(
        self, data: bytes, key: bytes | None = None, headers: Headers | None = None
    ) -> Future[None]:
        with self._lock:
            self.messages.append(data)
            self.records.append(Record(data, key, dict(headers or {})))
        return confirmed()


_memory: dict[str, MemoryStream] = {}
_memory_lock = threading.Lock()


def memory_stream(name: str) -> MemoryStream:
    """The memory stream ``memory://name`` (created on first use, shared in the process)."""
    with _memory_lock:
        stream = _memory.get(name)
        if stream is None:
            stream = _memory[name] = MemoryStream(f"memory://{name}")
        return stream


class KafkaStream(Stream):
    """Publishes to a Kafka topic with a ``confluent_kafka`` producer.

    ``produce`` only queues the message in the client; delivery happens in the background and
    failures are logged by the delivery callback. When the client's queue is full the step
    waits up to ``queue_full_timeout`` seconds, then fails the event (503, retriable).
    ``close`` flushes for at most ``flush_timeout`` seconds and logs what was left. ``send``
    resolves its future from the delivery callback, which a background thread (started by
    the first ``send``) serves.
    """

    blocking = False

    def __init__(
        self,
        path: str,
        flush_timeout: float = 5.0,
        queue_full_timeout: float = 1.0,
        producer_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(path)
        self.brokers, self.topic = kafka_address(path)
        self.flush_timeout = flush_timeout
        self.queue_full_timeout = queue_full_timeout
        self.failed = 0
        try:
            import confluent_kafka  # noqa: PLC0415 - only flows publishing to Kafka need it
        except ImportError:
            raise ConfigError(
                f"queue {path!r} needs confluent_kafka; pip install 'nuserve[serve]'"
            ) from None
        options = {"bootstrap.servers": ",".join(self.brokers), "linger.ms": 5}
        self.producer = confluent_kafka.Producer({**options, **(producer_options or {})})
        self._poller: threading.Thread | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()

    def publish(self, body: Any) -> Any:
        self._produce(encode(body), self._delivered)
        self.producer.poll(0)
        return body

    def send(
        self, data: bytes, key: bytes | None = None, headers: Headers | None = None
    ) -> Future[None]:
        future: Future[None] = Future()

        def delivered(error: Any, message: Any) -> None:
            with contextlib.suppress(InvalidStateError):  # the waiter gave up (cancelled it)
                if error is None:
                    future.set_result(None)
                else:
                    self._delivered(error, message)
                    future.set_exception(
                        NotReady(f"message to {self.path} was not delivered: {error}")
                    )

        extra: dict[str, Any] = {"key": key} if key is not None else {}
        if headers:
            extra["headers"] = list(headers.items())
        self._produce(data, delivered, **extra)
        if self._poller is None:
            self._start_poller()
        return future

    def _produce(self, data: bytes, on_delivery: Any, **extra: Any) -> None:
        try:
            self.producer.produce(self.topic, data, on_delivery=on_delivery, **extra)
        except BufferError:
            self.producer.poll(self.queue_full_timeout)
            try:
                self.producer.produce(self.topic, data, on_delivery=on_delivery, **extra)
            except BufferError:
                raise NotReady(
                    f"the Kafka producer for {self.path} is full after waiting "
                    f"{self.queue_full_timeout}s; the broker is slow or unreachable"
                ) from None

    def _start_poller(self) -> None:
        with self._lock:
            if self._poller is None and not self._closing.is_set():
                self._poller = threading.Thread(
                    target=self._poll, name=f"kafka-deliveries-{self.topic}", daemon=True
                )
                self._poller.start()

    def _poll(self) -> None:
        """Serve delivery callbacks until ``close``."""
        while not self._closing.is_set():
            self.producer.poll(0.1)

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self.failed += 1
            log.error("message to %s was not delivered: %s", self.path, error)

    def close(self) -> None:
        self._closing.set()
        if self._poller is not None:
            self._poller.join(self.flush_timeout)
        left = self.producer.flush(self.flush_timeout)
        if left:
            log.error("%d messages to %s were not delivered before close", left, self.path)


def kafka_address(path: str) -> tuple[list[str], str]:
    """``(brokers, topic)`` from ``kafka://host:port[,host:port]?topic=t`` (or ``/t``)."""
    url = urllib.parse.urlsplit(path)
    brokers = [b for b in url.netloc.split(",") if b]
    topics = urllib.parse.parse_qs(url.query).get("topic") or [url.path.strip("/")]
    if url.scheme != "kafka" or not brokers or not topics[0] or "/" in topics[0]:
        raise ConfigError(
            f"queue path {path!r} must be kafka://host:port[,host:port]?topic=<topic> "
            "(or kafka://host:port/<topic>)"
        )
    return brokers, topics[0]


class V3ioStream(Stream):
    """Publishes to a v3io stream (``v3io:///<container>/<path>``), one record per event."""

    def __init__(self, path: str, webapi: str = V3IO_WEBAPI, access_key: str | None = None) -> None:
        super().__init__(path)
        self.container, self.stream_path = v3io_address(path)
        import v3io.dataplane  # noqa: PLC0415 - only flows publishing to v3io need it

        self.client = v3io.dataplane.Client(endpoint=webapi, access_key=access_key)

    def publish(self, body: Any) -> Any:
        records = [{"data": encode(body)}]
        self.client.stream.put_records(self.container, self.stream_path, records)
        return body

    def close(self) -> None:
        self.client.close()


def v3io_address(path: str) -> tuple[str, str]:
    """``(container, "/path")`` from ``v3io:///<container>/<path>``."""
    rest = path.removeprefix("v3io:///")
    container, _, stream = rest.partition("/")
    if rest == path or not container or not stream.strip("/"):
        raise ConfigError(f"queue path {path!r} must be v3io:///<container>/<path>")
    return container, "/" + stream.strip("/")


def open_stream(path: str | None, options: dict[str, Any], step: str) -> Stream:
    """The stream a queue step's ``path`` names; ``options`` are the step's class_args."""
    scheme = (path or "").partition("://")[0]
    if path is None or scheme not in SCHEMES:
        raise ConfigError(
            f"queue step {step!r} has path {path!r}; pass path='kafka://host:port?topic=t', "
            "'v3io:///<container>/<path>' or 'memory://<name>'"
        )
    if scheme == "memory":
        return memory_stream(path[len("memory://") :])
    try:
        return SCHEMES[scheme](path, **options)
    except TypeError as exc:
        raise ConfigError(f"queue step {step!r}: bad stream options {options}: {exc}") from None


SCHEMES: dict[str, type[Stream]] = {
    "kafka": KafkaStream,
    "v3io": V3ioStream,
    "memory": MemoryStream,
}
"""Stream class per path scheme (an explicit registry, not guessed from the path)."""
