"""Reading a topic back for the tracking tests: every message, within a deadline."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, KafkaError


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 60.0) -> list[bytes]:
    """The topic's messages from the start: waits for ``expect`` of them (or ``timeout``), then
    a short while more so that extra messages (duplicates) would show."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"read-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    values: list[bytes] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        quiet_until = None
        while time.monotonic() < deadline:
            if len(values) >= expect:
                quiet_until = quiet_until or time.monotonic() + 1.0
                if time.monotonic() >= quiet_until:
                    break
            for msg in consumer.consume(num_messages=1000, timeout=0.2):
                err = msg.error()
                if err is not None:
                    assert err.code() == KafkaError._PARTITION_EOF, err
                    continue
                value = msg.value()
                assert value is not None
                values.append(value)
    finally:
        consumer.close()
    return values
