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
from functools import partial
from typing import Any

from nuserve.errors import ConfigError
from nuserve.tracking.ratelog import RateLimitedLog
from nuserve.tracking.sinks.base import Sink, SinkError, int_option, split_url

logger = logging.getLogger("nuserve.tracking.kafka")

DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "linger.ms": 5,
    "reconnect.backoff.ms": 100,
    "reconnect.backoff.max.ms": 1000,
}


class KafkaSink(Sink):
    """Produces each message to one topic; the producer is created with the sink."""

    def __init__(self, url: str) -> None:
        from confluent_kafka import KafkaException, Producer  # noqa: PLC0415 - lazy client

        self.url = url
        _, netloc, path, options = split_url(url)
        self.topic = options.pop("topic", "") or path.strip("/")
        if not netloc or not self.topic:
            raise ConfigError(
                f"kafka sink URL {url!r} needs brokers and a topic: "
                "kafka://host:9092?topic=model-events"
            )
        self.delivery_timeout_ms = int_option(options, "delivery_timeout_ms", 5000, url)
        self._log = RateLimitedLog(logger)
        config: dict[str, Any] = {
            **DEFAULTS,
            "bootstrap.servers": netloc,
            "message.timeout.ms": self.delivery_timeout_ms,
            **options,
            "logger": logger,
            "error_cb": self._on_error,
        }
        try:
            self._producer = Producer(config)
        except KafkaException as exc:
            raise ConfigError(f"kafka sink {url!r}: bad producer setting: {exc}") from exc

    def _on_error(self, error: Any) -> None:
        self._log.throttled_warning(
            str(error.code()), "kafka tracking sink %s: %s", self.url, error
        )

    def send(self, messages: list[bytes]) -> None:
        failed: dict[int, str] = {}
        reported: list[int] = []

        def report(index: int, err: Any, _msg: Any) -> None:
            reported.append(index)
            if err is not None:
                failed[index] = str(err)

        producer, topic = self._producer, self.topic
        wait = self.delivery_timeout_ms / 1000.0 + 2.0
        for i, message in enumerate(messages):
            try:
                producer.produce(topic, message, on_delivery=partial(report, i))
            except BufferError:
                producer.poll(0.1)  # librdkafka's queue is full: serve reports, try once more
                try:
                    producer.produce(topic, message, on_delivery=partial(report, i))
                except BufferError as exc:
                    failed.update((j, str(exc)) for j in range(i, len(messages)))
                    reported.extend(range(i, len(messages)))
                    break
        producer.poll(0)
        deadline = time.monotonic() + wait
        while len(reported) < len(messages) and time.monotonic() < deadline:
            producer.flush(min(0.5, max(0.0, deadline - time.monotonic())))
        if len(reported) < len(messages):
            done = set(reported)
            failed.update((i, "no delivery report") for i in range(len(messages)) if i not in done)
        if failed:
            reason = next(iter(failed.values()))
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
