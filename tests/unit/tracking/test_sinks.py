"""Sink specifics: file rotation and errors, v3io partial failures (on a local fake)."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest

from nuserve.tracking.sinks import MemorySink, SinkError, create_sink
from nuserve.tracking.sinks.file import FileSink
from tests.unit.tracking.fake_v3io import fake_v3io
from tests.unit.tracking.helpers import request, serve, sink_name


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_file_sink_rotates_by_size_keeping_max_files(tmp_path):
    path = tmp_path / "records.jsonl"
    sink = create_sink(f"file://{path}?max_bytes=1000&max_files=3")
    assert isinstance(sink, FileSink)
    messages = [orjson.dumps({"n": i, "pad": "x" * 80}) for i in range(100)]
    for start in range(0, 100, 7):
        sink.send(messages[start : start + 7])
    sink.close()
    kept = sink.rotated_paths()
    assert [p.name for p in kept] == ["records.jsonl", "records.jsonl.1", "records.jsonl.2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in kept)
    assert all(p.stat().st_size <= 1000 for p in kept)
    newest_first = [orjson.loads(line)["n"] for p in kept for line in reversed(lines(p))]
    assert newest_first == list(range(99, 99 - len(newest_first), -1))


def test_file_sink_writes_one_line_per_message(tmp_path):
    path = tmp_path / "sub" / "t.jsonl"
    server, _ = serve(stream_path=f"file://{path}", batch=3)
    for i in range(7):
        request(server, i)
    server.close()
    batches = [orjson.loads(line) for line in lines(path)]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r["request"]["id"] for b in batches for r in b] == [f"r{i}" for i in range(7)]


def test_file_sink_failure_names_the_undelivered(tmp_path):
    sink = create_sink(f"file://{tmp_path}")  # a directory: open() fails
    with pytest.raises(SinkError, match="cannot write") as info:
        sink.send([b"1", b"2"])
    assert info.value.failed == [0, 1]
    sink.close()


def test_memory_sink_is_found_by_name():
    name = sink_name()
    sink = create_sink(f"memory://{name}")
    assert sink is MemorySink.named(name) and sink is create_sink(f"memory://{name}")
    MemorySink.forget(name)
    assert MemorySink.named(name) is not sink


def test_v3io_sink_reports_the_failed_records():
    with fake_v3io() as fake:
        env = {"V3IO_API": fake.url, "V3IO_ACCESS_KEY": "secret"}
        sink = create_sink("v3io:///users/pipelines/events", env)
        sink.send([b"a", b"b"])
        fake.fail_every = 2
        with pytest.raises(SinkError, match="2 of 4 record") as info:
            sink.send([b"c", b"d", b"e", b"f"])
        assert info.value.failed == [1, 3]
        fake.fail_every, fake.status = 0, 503
        with pytest.raises(SinkError, match="status 503") as info:
            sink.send([b"g"])
        assert info.value.failed == [0]
        sink.close()
        assert fake.stored("users", "pipelines/events") == [b"a", b"b", b"c", b"e"]
        assert fake.requests[0] == {
            "path": "/users/pipelines/events/",
            "function": "PutRecords",
            "key": "secret",
        }


def test_v3io_sink_takes_the_web_api_from_the_url():
    with fake_v3io() as fake:
        host = fake.url.removeprefix("http://")
        sink = create_sink(f"v3io://{host}/bigdata/s", {"V3IO_ACCESS_KEY": "k"})
        sink.send([b"x"])
        sink.close()
        assert fake.stored("bigdata", "s") == [b"x"]


def test_v3io_sink_splits_calls_at_the_api_limit():
    with fake_v3io() as fake:
        sink = create_sink("v3io:///c/s", {"V3IO_API": fake.url, "V3IO_ACCESS_KEY": "k"})
        sink.send([b"%d" % i for i in range(2_500)])
        sink.close()
        assert len(fake.requests) == 3 and len(fake.stored("c", "s")) == 2_500


def test_kafka_sink_reports_undelivered_messages_and_logs_once(caplog):
    sink = create_sink("kafka://127.0.0.1:1?topic=t&delivery_timeout_ms=300")  # nothing listens
    with caplog.at_level(logging.WARNING, "nuserve.tracking"), pytest.raises(SinkError) as info:
        sink.send([b"a", b"b"])
    sink.close()
    assert info.value.failed == [0, 1]
    assert "2 of 2 message(s) not delivered" in str(info.value)
    assert "Message timed out" in str(info.value)
    refused = [r for r in caplog.records if "Connection refused" in r.getMessage()]
    assert 1 <= len(refused) <= 2  # librdkafka's line and the error callback's, once each
