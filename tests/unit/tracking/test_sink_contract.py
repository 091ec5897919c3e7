"""One contract, every sink: what a tracked server sends can be read back whole and valid.

The Kafka case uses a real broker (``tests/kafka``, marked ``integration``); v3io runs against
a local fake of the PutRecords web API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from nuserve.tracking.sinks import MemorySink, create_sink
from tests.kafka.fixtures import new_topic
from tests.unit.tracking.fake_v3io import fake_v3io
from tests.unit.tracking.helpers import WIRE_FIELDS, request, serve, sink_name
from tests.unit.tracking.kafka_read import read_topic

Reader = Callable[[int], list[bytes]]
N = 100


@pytest.fixture(
    params=["memory", "file", "v3io", pytest.param("kafka", marks=pytest.mark.integration)]
)
def sink_case(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Reader]]:
    """``(stream_path, read(expected messages) -> messages)`` for each kind of sink."""
    kind = request.param
    if kind == "memory":
        name = sink_name()
        yield f"memory://{name}", lambda _: list(MemorySink.named(name).messages)
        MemorySink.forget(name)
    elif kind == "file":
        path = tmp_path / "records.jsonl"
        yield f"file://{path}", lambda _: path.read_bytes().splitlines()
    elif kind == "v3io":
        with fake_v3io() as fake:
            monkeypatch.setenv("V3IO_API", fake.url)
            monkeypatch.setenv("V3IO_ACCESS_KEY", "test-key")
            yield "v3io:///users/contract/events", lambda _: fake.stored("users", "contract/events")
    else:
        broker = request.getfixturevalue("kafka_broker")
        topic = new_topic(broker, f"contract-{uuid.uuid4().hex[:8]}")
        yield (
            f"kafka://{broker.bootstrap}?topic={topic}",
            lambda expect: read_topic(broker.bootstrap, topic, expect),
        )


@pytest.mark.parametrize("batch", [1, 10])
def test_every_record_arrives_whole(sink_case: tuple[str, Reader], batch: int) -> None:
    stream_path, read = sink_case
    server, _ = serve(stream_path=stream_path, batch=batch)
    for i in range(N):
        request(server, i)
    tracker = server.tracker
    assert tracker is not None
    server.close()
    assert tracker.stats() == {
        "tracked": N, "sent": N, "retried": 0, "dropped": 0, "queued": 0, "errors": 0,
    }  # fmt: skip

    messages = read(N // batch)
    assert len(messages) == N // batch
    records = []
    for message in messages:
        value = orjson.loads(message)
        assert isinstance(value, dict if batch == 1 else list)
        records.extend(value if batch > 1 else [value])
    assert sorted(r["request"]["id"] for r in records) == sorted(f"r{i}" for i in range(N))
    for record in records:
        assert list(record) == WIRE_FIELDS
        assert record["request"]["inputs"] == record["resp"]["outputs"]


def test_a_sink_takes_an_empty_send(sink_case: tuple[str, Reader]) -> None:
    sink = create_sink(sink_case[0])
    sink.send([])
    sink.flush()
    sink.close()
