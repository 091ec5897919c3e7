"""Kafka (``kafka://``): the one place nuserve sets up confluent-kafka clients.

Tracking sinks, queue steps, output and dead-letter streams, the local kafka-cluster trigger
and the monitoring consumer all get their producers and consumers here, so they share one set
of settings (``PRODUCER_DEFAULTS``, ``CONSUMER_DEFAULTS``), one way of logging librdkafka (a
down broker makes it log every reconnect: each kind of line is logged once per interval), and
one reading of its errors (``describe``). ``confluent_kafka`` is imported when a client is
made, never when this module is.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any

from nuserve.errors import ConfigError, NotReady
from nuserve.streams.base import Headers, Stream, encode
from nuserve.streams.ratelog import RateLimitedLog
from nuserve.streams.url import StreamURL, parse_stream_url

log = logging.getLogger("nuserve.streams.kafka")

PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger.ms": 5,
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 1000,
}
"""Every producer: acknowledged by all in-sync replicas, small batches, quick reconnects."""
CONSUMER_DEFAULTS: dict[str, Any] = {
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 1000,
}


def client() -> Any:
    """The ``confluent_kafka`` module, or a ConfigError saying how to install it."""
    try:
        import confluent_kafka  # noqa: PLC0415 - only functions that use Kafka need it
    except ImportError:
        raise ConfigError(
            "Kafka streams need confluent-kafka; pip install 'nuserve[serve]'"
        ) from None
    return confluent_kafka


def describe(error: Any) -> str:
    """A librdkafka error (``KafkaError``, or an exception carrying one) in one line:
    ``_TRANSPORT: Connection refused (retriable)``."""
    inner = error.args[0] if isinstance(error, Exception) and error.args else error
    name = getattr(inner, "name", None)
    if not callable(name):
        return str(error)
    retriable = getattr(inner, "retriable", None)
    fatal = getattr(inner, "fatal", None)
    kind = ""
    if callable(fatal) and fatal():
        kind = " (fatal)"
    elif callable(retriable) and retriable():
        kind = " (retriable)"
    return f"{name()}: {inner.str()}{kind}"


class ClientLog:
    """Where librdkafka's log lines and error callbacks go, rate-limited per kind of line."""

    def __init__(self, what: str, logger: logging.Logger = log) -> None:
        self.what = what
        self.limited = RateLimitedLog(logger)

    def log(self, level: int, msg: str, *args: Any) -> None:
        facility = str(args[0]) if args else msg
        self.limited.log(level, f"librdkafka:{level}:{facility}", msg, *args)

    def on_error(self, error: Any) -> None:
        code = getattr(error, "code", None)
        key = str(code()) if callable(code) else str(error)
        self.limited.throttled_warning(key, "%s: %s", self.what, describe(error))


def producer(url: StreamURL, what: str, **settings: Any) -> Any:
    """A Producer for ``url``'s brokers: the defaults, then the URL's options, then ``settings``."""
    kafka = client()
    logs = ClientLog(f"{what} {url.url}")
    config: dict[str, Any] = {
        **PRODUCER_DEFAULTS,
        "bootstrap.servers": ",".join(url.brokers),
        **url.options,
        **settings,
        "logger": logs,
        "error_cb": logs.on_error,
    }
    try:
        return kafka.Producer(config)
    except kafka.KafkaException as exc:
        raise ConfigError(f"{what} {url.url!r}: bad producer setting: {describe(exc)}") from exc


def consumer(brokers: str, group: str, what: str, **settings: Any) -> Any:
    """A Consumer in ``group``: the defaults, then ``settings`` (librdkafka names)."""
    kafka = client()
    logs = ClientLog(what)
    config: dict[str, Any] = {
        **CONSUMER_DEFAULTS,
        "bootstrap.servers": brokers,
        "group.id": group,
        **settings,
        "logger": logs,
        "error_cb": logs.on_error,
    }
    try:
        return kafka.Consumer(config)
    except kafka.KafkaException as exc:
        raise ConfigError(f"{what}: bad consumer setting: {describe(exc)}") from exc


class KafkaStream(Stream):
    """Publishes to a Kafka topic.

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
        url = parse_stream_url(path, "kafka stream", ("kafka",))
        self.brokers, self.topic = list(url.brokers), url.topic
        self.flush_timeout = flush_timeout
        self.queue_full_timeout = queue_full_timeout
        self.failed = 0
        self.producer = producer(url, "kafka stream", **(producer_options or {}))
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
                        NotReady(f"message to {self.path} was not delivered: {describe(error)}")
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
            log.error("message to %s was not delivered: %s", self.path, describe(error))

    def close(self) -> None:
        self._closing.set()
        if self._poller is not None:
            self._poller.join(self.flush_timeout)
        left = self.producer.flush(self.flush_timeout)
        if left:
            log.error("%d messages to %s were not delivered before close", left, self.path)
