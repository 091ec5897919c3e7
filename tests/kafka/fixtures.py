"""Pytest fixtures for a real Kafka broker.

Registered once for the whole suite in ``tests/conftest.py`` (``pytest_plugins``).

``kafka_broker`` is session-scoped: one broker serves every test and is stopped at the end
of the session. A test that takes it down (``kill()``) must bring it back (``restart()`` or
``ensure_running()``) before it ends, e.g. in a ``finally``, so later tests find it up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from tests.kafka.broker import KAFKA_39, KafkaBroker, jars_cached, libs_dir
from tests.progress import say

__all__ = ["kafka_broker", "kafka_broker_39", "kafka_brokers", "new_topic"]


def _running_broker(pytestconfig: pytest.Config, broker: KafkaBroker) -> Iterator[KafkaBroker]:
    began = time.monotonic()
    version = broker.version
    if not jars_cached(version):
        say(
            pytestconfig,
            f"fetching Kafka {version}'s jars with mvn into {libs_dir(version)} (once; a few "
            "minutes)...",
        )
        broker.fetch_jars()
        say(pytestconfig, f"Kafka's jars fetched in {time.monotonic() - began:.0f} s")
    say(pytestconfig, f"starting a Kafka {version} broker (KRaft) for the integration tests...")
    began = time.monotonic()
    try:
        broker.start()
        say(
            pytestconfig,
            f"Kafka {version} broker on {broker.bootstrap}, up in "
            f"{time.monotonic() - began:.1f} s",
        )
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_broker(pytestconfig: pytest.Config) -> Iterator[KafkaBroker]:
    """One running broker (the newest Kafka) for the whole session; ``.bootstrap`` is
    ``"127.0.0.1:<port>"``."""
    yield from _running_broker(pytestconfig, KafkaBroker())


@pytest.fixture(scope="session")
def kafka_broker_39(pytestconfig: pytest.Config) -> Iterator[KafkaBroker]:
    """A Kafka 3.9 broker (MLRun CE's; Nuclio 1.14's Sarama commits offsets on it), started
    only when a test asks for it."""
    yield from _running_broker(pytestconfig, KafkaBroker(version=KAFKA_39, heap="384m"))


@pytest.fixture(params=["4.1", "3.9"])
def kafka_brokers(request: pytest.FixtureRequest) -> KafkaBroker:
    """Each broker version in turn: for the core trigger and tracking tests, which run on
    both (the rest run on the newest only, to keep CI short)."""
    name = "kafka_broker" if request.param == "4.1" else "kafka_broker_39"
    broker: KafkaBroker = request.getfixturevalue(name)
    return broker


def new_topic(
    broker: KafkaBroker,
    name: str,
    partitions: int = 1,
    *,
    config: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> str:
    """Create topic ``name`` and wait until every partition has a leader; return the name."""
    deadline = time.monotonic() + timeout
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    futures[name].result(timeout=timeout)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"topic {name!r} has no leader for all partitions after {timeout}s")
        try:
            metadata = admin.list_topics(topic=name, timeout=min(2.0, remaining))
        except KafkaException:
            metadata = None
        if metadata is not None:
            topic = metadata.topics.get(name)
            if (
                topic is not None
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 and p.error is None for p in topic.partitions.values())
            ):
                return name
        time.sleep(0.1)
