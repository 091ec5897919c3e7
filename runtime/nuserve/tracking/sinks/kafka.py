"""KafkaSink (``kafka://host:port[,host2:port]?topic=t``): ``send`` waits for every delivery.

The producer comes from ``nuserve.streams.kafka`` (``acks=all`` and the shared settings), so
``sent`` counts only what the broker acknowledged. librdkafka retries by itself for up to
``delivery_timeout_ms`` (its ``message.timeout.ms``, default 5 s); a message still not
delivered by then is reported failed, and the tracker's sender produces it again after a
backoff. While the broker is down nothing here blocks a request: the sender thread waits,
and records wait in the tracker's bounded queue.

Other query options go to librdkafka as they are (``?topic=t&compression.type=lz4``).
"""

from __future__ import annotations

import time
from typing import Any

from nuserve.streams import kafka
from nuserve.streams.url import parse_stream_url
from nuserve.tracking.sinks.base import Sink, SinkError

FIRST_WAIT_S = 0.02
"""How long ``send`` waits in librdkafka's ``flush`` (a local broker acknowledges within it)."""
SLOW_POLL_S = 0.05
"""Then how often it looks again. ``flush`` wakes its thread every 10 ms while it waits: on
a core shared with the event loop each wake preempted the loop (~400 switches a second at
2,000 tracked requests/s, the loop ~40 µs a request slower: bench/tracking_http.py); a wait
of 50 ms between looks wakes it 20 times a second."""


class KafkaSink(Sink):
    """Produces each message to one topic; the producer is created with the sink."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = parse_stream_url(url, "kafka sink URL", ("kafka",))
        self.topic = parsed.topic
        self.delivery_timeout_ms = parsed.take_int("delivery_timeout_ms", 5000)
        self._failed: list[tuple[bytes, str]] = []
        self._producer = kafka.producer(
            parsed,
            "kafka tracking sink",
            **{
                "message.timeout.ms": self.delivery_timeout_ms,
                "delivery.report.only.error": True,
                "on_delivery": self._on_failed,
            },
        )

    def _on_failed(self, err: Any, msg: Any) -> None:
        self._failed.append((msg.value(), kafka.describe(err)))

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
        producer.flush(FIRST_WAIT_S)
        while len(producer) and time.monotonic() < deadline:
            time.sleep(min(SLOW_POLL_S, max(0.0, deadline - time.monotonic())))
            producer.poll(0)  # serves the failure reports
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
