"""Read the whole tracking topic back and match its records to the requests answered 200.

Every partition is read from its first offset up to the high watermark taken when reading
starts (the server has drained by then), within a time limit. Each record's
``request.id`` that starts with the load generator's prefix is counted against that
request's number; other ids (the readiness probes' requests) are counted apart.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from soak_load import NOT_OK, OK, SENT

POLL_S = 1.0
BATCH = 10_000


@dataclass(frozen=True)
class Delivery:
    """The topic's records against the load generator's answers."""

    expected: int
    """Requests answered 2xx: each must have exactly one record."""
    delivered: int
    """Of those, how many have a record."""
    duplicates: int
    """Records beyond the first for one request."""
    unanswered: int
    """Records of requests whose answer never came (timed out, connection lost)."""
    failed: int
    """Records of requests answered with an error status."""
    foreign: int
    """Records with ids the load generator did not send (readiness probes)."""
    records: int
    complete: bool
    """Every partition was read to its high watermark in time."""

    @property
    def missing(self) -> int:
        return self.expected - self.delivered


def read_ids(
    bootstrap: str, topic: str, prefix: str, size: int, timeout: float
) -> tuple[bytearray, int, int, bool]:
    """``(records per request number, foreign records, all records, complete)``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"soak-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "log.connection.close": False,
        }
    )
    counts = bytearray(size)
    foreign = records = 0
    deadline = time.monotonic() + timeout
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {}
        for number in partitions:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, number), timeout=10)
            if high > 0:
                ends[number] = high
        consumer.assign([TopicPartition(topic, n, OFFSET_BEGINNING) for n in ends])
        left = dict(ends)
        while left and time.monotonic() < deadline:
            for message in consumer.consume(BATCH, timeout=POLL_S):
                if message.error() is not None:
                    continue
                partition, offset = message.partition(), message.offset()
                if partition in left and offset + 1 >= left[partition]:
                    del left[partition]
                for record in _records(message.value()):
                    records += 1
                    number = _number(record, prefix, size)
                    if number is None:
                        foreign += 1
                    elif counts[number] < 255:
                        counts[number] += 1
        return counts, foreign, records, not left
    finally:
        consumer.close()


def _records(value: bytes | None) -> list[dict[str, Any]]:
    """A message holds one record (a JSON object) or a batch (a JSON array)."""
    if not value:
        return []
    decoded = orjson.loads(value)
    return decoded if isinstance(decoded, list) else [decoded]


def _number(record: dict[str, Any], prefix: str, size: int) -> int | None:
    request = record.get("request")
    request_id = request.get("id") if isinstance(request, dict) else None
    if not isinstance(request_id, str) or not request_id.startswith(prefix):
        return None
    digits = request_id[len(prefix) :]
    if not digits.isdigit() or int(digits) >= size:
        return None
    return int(digits)


def match(
    states: bytearray, counts: bytearray, foreign: int, records: int, complete: bool
) -> Delivery:
    """Compare what the load generator saw with what the topic holds."""
    expected = delivered = duplicates = unanswered = failed = 0
    for state, count in zip(states, counts, strict=True):
        if count > 1:
            duplicates += count - 1
        if state == OK:
            expected += 1
            if count:
                delivered += 1
        elif count and state == SENT:
            unanswered += 1
        elif count and state == NOT_OK:
            failed += 1
    return Delivery(expected, delivered, duplicates, unanswered, failed, foreign, records, complete)
