"""Tracking to a real Apache Kafka broker: every record arrives, sampled and batched, and a
broker outage neither slows requests nor loses what the queue holds."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from typing import Any

import orjson
import pytest

import nuserve
from nuserve.server.mock import MockServer
from nuserve.tracking import tracking_settings
from tests.kafka.broker import KafkaBroker
from tests.kafka.fixtures import new_topic
from tests.unit.tracking.helpers import WIRE_FIELDS
from tests.unit.tracking.kafka_read import read_topic

pytestmark = pytest.mark.integration


def tracked_server(broker: KafkaBroker, topic: str, **settings: Any) -> MockServer:
    fn = nuserve.new_function("tracked")
    fn.spec.tracking = tracking_settings(
        stream_path=f"kafka://{broker.bootstrap}?topic={topic}", **settings
    )
    fn.add_model("e", class_name="tests.models.Echo")
    return fn.to_mock_server()


def records_of(messages: list[bytes]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages:
        value = orjson.loads(message)
        out.extend(value if isinstance(value, list) else [value])
    return out


@pytest.mark.parametrize(
    ("settings", "messages", "records"),
    [({}, 10_000, 10_000), ({"sample": 10}, 1_000, 1_000), ({"batch": 50}, 200, 10_000)],
    ids=["all", "sample-10", "batch-50"],
)
def test_every_tracked_request_reaches_the_topic(
    kafka_brokers: KafkaBroker,
    settings: dict[str, Any],
    messages: int,
    records: int,
) -> None:
    kafka_broker = kafka_brokers  # Kafka 4.1 and 3.9 in turn
    topic = new_topic(kafka_broker, f"track-{uuid.uuid4().hex[:8]}")
    server = tracked_server(kafka_broker, topic, **settings)
    for i in range(10_000):
        server.test("/v2/models/e/infer", {"id": f"q{i}", "inputs": [[i]]})
    tracker = server.tracker
    assert tracker is not None
    server.close()
    assert tracker.stats() == {
        "tracked": records, "sent": records, "retried": 0, "dropped": 0, "queued": 0, "errors": 0,
    }  # fmt: skip

    got = read_topic(kafka_broker.bootstrap, topic, messages)
    assert len(got) == messages
    found = records_of(got)
    assert len(found) == records
    step = 10 if settings.get("sample") else 1
    assert sorted(r["request"]["id"] for r in found) == sorted(
        f"q{i}" for i in range(0, 10_000, step)
    )
    assert all(list(r) == WIRE_FIELDS and r["resp"]["outputs"] == r["request"]["inputs"]
               for r in found)  # fmt: skip


class Load(threading.Thread):
    """Sends paced requests to every server, noting each call's latency under a phase label."""

    def __init__(self, servers: list[MockServer], every: float) -> None:
        super().__init__(name="load", daemon=True)
        self.servers, self.every = servers, every
        self.phase = "up"
        self.latency: dict[str, list[float]] = {}
        self.sent = 0
        self.failure: BaseException | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                began = time.perf_counter()
                for server in self.servers:
                    body = {"id": f"o{self.sent}", "inputs": [[self.sent]]}
                    start = time.perf_counter()
                    assert server.test("/v2/models/e/infer", body)["outputs"] == [[self.sent]]
                    self.latency.setdefault(self.phase, []).append(time.perf_counter() - start)
                self.sent += 1
                time.sleep(max(0.0, self.every - (time.perf_counter() - began)))
        except BaseException as exc:  # surfaced by the test
            self.failure = exc


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def test_a_broker_outage_keeps_serving_and_loses_nothing_buffered(
    kafka_broker: KafkaBroker,
) -> None:
    topic, small_topic = (new_topic(kafka_broker, f"outage-{uuid.uuid4().hex[:8]}") for _ in "ab")
    server = tracked_server(kafka_broker, topic)
    small = tracked_server(kafka_broker, small_topic, queue_size=200)
    load = Load([server, small], every=0.004)
    load.start()
    try:
        time.sleep(3)
        load.phase = "down"
        kafka_broker.kill()
        time.sleep(20)
        load.phase = "restarting"
    finally:
        kafka_broker.restart()
    time.sleep(2)
    load.halt.set()
    load.join(10)
    assert load.failure is None, load.failure
    total = load.sent

    trackers = [s.tracker for s in (server, small)]
    assert trackers[0] is not None and trackers[1] is not None
    assert trackers[0].wait_sent(60), trackers[0].stats()
    assert trackers[1].wait_sent(60), trackers[1].stats()
    server.close()
    small.close()

    big_stats, small_stats = (t.stats() for t in trackers)
    assert big_stats["tracked"] == total and big_stats["dropped"] == 0
    assert big_stats["sent"] == total and big_stats["retried"] >= 1
    ids = Counter(
        r["request"]["id"] for r in records_of(read_topic(kafka_broker.bootstrap, topic, total))
    )
    assert set(ids) == {f"o{i}" for i in range(total)}, "records lost in the outage"
    duplicates = sum(ids.values()) - len(ids)

    assert small_stats["tracked"] == total and small_stats["dropped"] > 0
    assert small_stats["sent"] + small_stats["dropped"] == total
    small_ids = {
        r["request"]["id"]
        for r in records_of(read_topic(kafka_broker.bootstrap, small_topic, small_stats["sent"]))
    }
    assert len(small_ids) == small_stats["sent"]

    up, down = p99(load.latency["up"]), p99(load.latency["down"])
    print(
        f"\n{total} requests per server; p99 up {up * 1e6:.0f} µs, broker down {down * 1e6:.0f}"
        f" µs; duplicates {duplicates}; small queue: {small_stats}"
    )
    assert down < 2 * up + 0.002
