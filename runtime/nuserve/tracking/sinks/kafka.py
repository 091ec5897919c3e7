"""KafkaSink (``kafka://host:port[,host2:port]?topic=t``): confluent-kafka, ``acks=all``.

``send`` produces the messages and waits for every delivery report, so the sender's ``sent``
counts only what the broker acknowledged. librdkafka retries by itself for up to
``delivery_timeout_ms`` (its ``message.timeout.ms``, default 5 s); a message still not
delivered by then is reported failed, and the tracker's sender produces it again after a
backoff. While the broker is down nothing here blocks a request: the sender thread waits,
and records wait in the tracker's bounded queue.

The topic may also be the URL's path (``kafka://host:9092/topic``, MLRun's form). Other
query options go to librdkafka as they are (``?topic=t&compression.type=lz4``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nuserve.errors import ConfigError
from nuserve.tracking.ratelog import RateLimitedLog
from nuserve.tracking.sinks.base import Sink, SinkError, int_option, kafka_url

logger = logging.getLogger("nuserve.tracking.kafka")

DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger.ms": 5,
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 1000,
}


class _LibrdkafkaLog:
    """Where librdkafka's own log lines go: a down broker makes it log every reconnect
    attempt, so each kind of line (its facility) is logged once per interval."""

    def __init__(self, log: RateLimitedLog) -> None:
        self.limited = log

    def log(self, level: int, msg: str, *args: Any) -> None:
        facility = str(args[0]) if args else msg
        self.limited.log(level, f"librdkafka:{level}:{facility}", msg, *args)


class KafkaSink(Sink):
    """Produces each message to one topic; the producer is created with the sink."""

    def __init__(self, url: str) -> None:
        from confluent_kafka import KafkaException, Producer  # noqa: PLC0415 - lazy client

        self.url = url
        example = "kafka://host:9092?topic=model-events"
        netloc, self.topic, options = kafka_url(url, "kafka sink URL", example)
        self.delivery_timeout_ms = int_option(options, "delivery_timeout_ms", 5000, url)
        self._log = RateLimitedLog(logger)
        config: dict[str, Any] = {
            **DEFAULTS,
            "bootstrap.servers": netloc,
            "message.timeout.ms": self.delivery_timeout_ms,
            **options,
            "delivery.report.only.error": True,
            "on_delivery": self._on_failed,
            "logger": _LibrdkafkaLog(self._log),
            "error_cb": self._on_error,
        }
        self._failed: list[tuple[bytes, str]] = []
        try:
            self._producer = Producer(config)
        except KafkaException as exc:
            raise ConfigError(f"kafka sink {url!r}: bad producer setting: {exc}") from exc

    def _on_error(self, error: Any) -> None:
        self._log.throttled_warning(
            str(error.code()), "kafka tracking sink %s: %s", self.url, error
        )

    def _on_failed(self, err: Any, msg: Any) -> None:
        self._failed.append((msg.value(), str(err)))

    def send(self, messages: list[bytes]) -> None:
        """Produce, then wait until librdkafka's queue is empty.

        With ``delivery.report.only.error`` librdkafka reports failures only, so a message
        that left the queue without a report was acknowledged: no Python callback per
        delivered message. A failure report names the message by its bytes.
        """
        producer, topic = self._producer, self.topic
        self._failed = []
        unqueued: list[int] = []
        for i, message in enumerate(messages):
            try:
                producer.produce(topic, message)
            except BufferError:
                producer.poll(0.1)  # librdkafka's queue is full: serve reports, try once more
                try:
                    producer.produce(topic, message)
                except BufferError:
                    unqueued = list(range(i, len(messages)))
                    break
        deadline = time.monotonic() + self.delivery_timeout_ms / 1000.0 + 2.0
        while len(producer) and time.monotonic() < deadline:
            producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
        if len(producer):  # no verdict in time: take them back, they are reported as failed
            producer.purge()
            producer.flush(0)
        if not self._failed and not unqueued:
            return
        where: dict[bytes, list[int]] = {}
        for i, message in enumerate(messages):
            where.setdefault(message, []).append(i)
        failed = set(unqueued)
        for value, _ in self._failed:
            spots = where.get(value)
            if spots:
                failed.add(spots.pop())
        reason = self._failed[0][1] if self._failed else "librdkafka queue full"
        raise SinkError(
            f"kafka topic {self.topic!r}: {len(failed)} of {len(messages)} message(s) not "
            f"delivered ({reason})",
            failed=sorted(failed),
        )

    def flush(self) -> None:
        self._producer.flush(1.0)

    def close(self) -> None:
        producer = self._producer
        if producer.flush(1.0):
            producer.purge()  # undeliverable now; the sender already counted them
            producer.flush(0)
        close = getattr(producer, "close", None)  # Producer.close() exists in newer clients
        if close is not None:
            close()
