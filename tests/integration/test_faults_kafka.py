"""The Kafka broker SIGKILLed under load and restarted (issue 9, faults): nothing that was
acknowledged is lost.

(a) Tracking: ``nuserve serve --workers 2`` tracks every request to a topic; the broker dies a
third of the way in and stays down 30 s. Every request answered 200 has its record in the
topic once the broker is back (at-least-once: duplicates are allowed, and counted).

(b) Stream triggers: ``nuserve serve`` consumes an input topic and writes each answer to an
output topic; the broker dies mid-stream for longer than an answer's write may wait, so the
message in hand fails and is delivered again. Every input message the consumer group
committed has its answer in the output topic, and once the broker is back every message is
answered (duplicates allowed, and counted).
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

import nuserve
from nuserve.nuclio.stream_output import DELIVERY_TIMEOUT_S
from tests.integration.faults_load import HttpLoad
from tests.integration.test_stream_serve import (
    SlowEcho,
    committed,
    infer,
    produce,
    read_topic,
    stream_function,
)
from tests.kafka.broker import KafkaBroker
from tests.kafka.fixtures import new_topic
from tests.serve_models import CountingEcho, request, serve, wait_until
from tests.unit.tracking import kafka_read

pytestmark = pytest.mark.integration
OUTAGE_S = 30.0
STREAM_OUTAGE_S = DELIVERY_TIMEOUT_S + 5
"""Longer than an answer's write may take: the one in hand fails (503) and is delivered again."""


class QuietEcho(CountingEcho):
    """Echo that logs its load (``serve`` waits for it) but not each call."""

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tracking_counts(port: int) -> dict[str, int]:
    """``nuserve_tracking_records_total`` by state, summed over the workers."""
    text = request(port, "GET", "/metrics")[1].decode()
    found = re.findall(r'^nuserve_tracking_records_total\{state="(\w+)"\} (\d+)$', text, re.M)
    return {state: int(n) for state, n in found}


def test_tracking_loses_no_acknowledged_request_when_the_broker_dies_for_30s(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    topic = new_topic(kafka_broker, unique("track-fault"))
    fn = nuserve.new_function("tracked")
    fn.add_model("e", class_name=QuietEcho)
    fn.set_tracking(f"kafka://{kafka_broker.bootstrap}?topic={topic}")
    fn.to_yaml(tmp_path / "function.yaml")

    with serve(tmp_path / "function.yaml", workers=2) as served:
        load = HttpLoad(
            served.port, "/v2/models/e/infer",
            lambda n: orjson.dumps({"id": f"r{n}", "inputs": [n]}),
            threads=4, keep_alive=2, timeout=10, limit_s=120, pause_s=0.02,
        )  # fmt: skip
        load.start()
        try:
            try:
                time.sleep(OUTAGE_S / 2)  # a third of the load before the outage
                killed = load.count()
                kafka_broker.kill()
                time.sleep(OUTAGE_S)
            finally:
                kafka_broker.restart()
            time.sleep(OUTAGE_S / 2)
        finally:
            outcomes = load.stop()

        assert all(o.status == 200 for o in outcomes), Counter(
            (o.status, o.error) for o in outcomes
        )
        answered = {f"r{o.number}" for o in outcomes}
        wait_until(
            lambda: tracking_counts(served.port).get("sent", -1) >= len(outcomes),
            120,
            f"{len(outcomes)} records sent (counts {tracking_counts(served.port)})",
        )
        counts = tracking_counts(served.port)

    assert counts["tracked"] == len(outcomes) and counts["dropped"] == 0, counts
    records = kafka_read.read_topic(kafka_broker.bootstrap, topic, len(outcomes), timeout=60)
    ids = Counter(orjson.loads(value)["request"]["id"] for value in records)
    assert not sorted(answered - set(ids))[:10], "acknowledged requests without a record"
    assert set(ids) <= answered
    duplicates = sum(ids.values()) - len(ids)
    print(
        f"\n{len(outcomes)} requests ({killed} before the broker died, {OUTAGE_S:.0f}s down); "
        f"all tracked, {duplicates} duplicate record(s); worker counts {counts}"
    )


def test_stream_trigger_loses_no_committed_message_when_the_broker_dies(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    bootstrap, n = kafka_broker.bootstrap, 400
    topic, output, group = new_topic(kafka_broker, unique("in")), unique("out"), unique("g")
    new_topic(kafka_broker, output)
    spec = stream_function(
        tmp_path, bootstrap, topic, group, output, explicit_ack=True, model=SlowEcho
    )
    ids = [f"m{i}" for i in range(n)]
    produce(bootstrap, topic, [(key, infer(i)) for i, key in enumerate(ids)])

    with serve(spec, workers=1) as served:
        wait_until(lambda: len(served.calls_seen()) >= n // 3, 60, "a third handled")
        handled_at_kill = len(served.calls_seen())
        kafka_broker.kill()
        try:
            time.sleep(STREAM_OUTAGE_S)
        finally:
            kafka_broker.restart()
        at_restart = committed(bootstrap, group, topic)
        # what the group committed has its answer in the output topic already
        before = set(ids[:at_restart])
        early = read_topic(
            bootstrap, output, lambda got: before <= {k.decode() for k, _, _ in got if k}, 30
        )
        assert before <= {k.decode() for k, _, _ in early if k}, "committed, never answered"
        answers = read_topic(
            bootstrap, output, lambda got: set(ids) <= {k.decode() for k, _, _ in got if k}, 120
        )
        wait_until(lambda: committed(bootstrap, group, topic) == n, 60, "every offset committed")
        handled = len(served.calls_seen())
    assert handled > n, "the answer whose write failed in the outage was not handled again"

    seen = Counter(key.decode() for key, _, _ in answers if key)
    assert not sorted(set(ids) - set(seen))[:10], "messages never answered"
    assert set(seen) == set(ids)
    for key, value, _ in answers:
        assert key is not None and orjson.loads(value)["id"] == key.decode()
    duplicates = sum(seen.values()) - n
    print(
        f"\n{n} messages: broker killed after {handled_at_kill} handled, {at_restart} committed "
        f"at restart; {handled} handled in all, {duplicates} duplicate answer(s)"
    )
