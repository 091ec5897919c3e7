"""The queue and the sender: batching, drop-oldest, retries with backoff, close."""

from __future__ import annotations

import logging
import time

import orjson

from nuserve.tracking.sinks import MemorySink, SinkError
from tests.unit.tracking.helpers import (
    RecordingSink,
    echo_model,
    request,
    serve,
    sink_name,
    track,
    tracker_with,
    wait_for,
)


def ids(sink: MemorySink) -> list[str]:
    return [r["request"]["id"] for r in sink.records()]


def test_batch_packs_records_into_json_arrays():
    server, sink = serve(batch=50)
    for i in range(1_000):
        request(server, i)
    server.close()
    assert len(sink.messages) == 20
    batches = [orjson.loads(m) for m in sink.messages]
    assert {len(b) for b in batches} == {50}
    assert ids(sink) == [f"r{i}" for i in range(1_000)]


def test_a_send_carries_at_most_max_messages():
    sink = RecordingSink(sink_name())
    tracker = tracker_with(sink, max_messages=100, batch=2)
    model = echo_model()
    for i in range(1_000):
        track(tracker, model, i)
    tracker.start()
    assert tracker.wait_sent(5)
    tracker.close()
    assert sink.sizes == [100] * 5
    assert ids(sink) == [f"r{i}" for i in range(1_000)]


def test_a_full_queue_drops_the_oldest_and_counts_them():
    sink = MemorySink(sink_name())
    sink.down = True
    tracker = tracker_with(sink, queue_size=100)
    model = echo_model()
    for i in range(250):
        assert track(tracker, model, i).body["outputs"] == [[i]]
    assert tracker.stats() == {
        "tracked": 250, "sent": 0, "retried": 0, "dropped": 150, "queued": 100, "errors": 0,
    }  # fmt: skip
    sink.down = False
    tracker.close()
    assert ids(sink) == [f"r{i}" for i in range(150, 250)]
    assert tracker.stats()["sent"] == 100


def test_while_the_sink_is_down_records_wait_up_to_the_bound(caplog):
    server, sink = serve(queue_size=100, flush_interval_ms=5, backoff_ms=5, max_backoff_ms=20)
    tracker = server.tracker
    assert tracker is not None
    sink.down = True
    with caplog.at_level(logging.WARNING, "nuserve.tracking"):
        for i in range(1_000):
            request(server, i)
        wait_for(lambda: tracker.stats()["retried"] >= 2)
        stats = tracker.stats()
        assert stats["tracked"] == 1_000 and stats["sent"] == 0
        assert stats["dropped"] >= 800 and stats["dropped"] + stats["queued"] == 1_000
        wait_for(lambda: "tracking queue full (queue_size=100)" in caplog.text)
    assert "tracking sink MemorySink('memory://" in caplog.text  # the failure, rate-limited
    sink.down = False
    assert tracker.wait_sent(5)
    stats = tracker.stats()
    assert stats["sent"] + stats["dropped"] == 1_000 and stats["sent"] == len(sink.records())
    assert ids(sink)[-1] == "r999"  # the newest survive
    server.close()


def test_retries_back_off_exponentially_then_deliver():
    sink = RecordingSink(sink_name())
    sink.fail_next = 3
    tracker = tracker_with(sink, flush_interval_ms=2, backoff_ms=20, max_backoff_ms=1_000)
    model = echo_model()
    for i in range(10):
        track(tracker, model, i)
    tracker.start()
    assert tracker.wait_sent(5)
    tracker.close()
    assert ids(sink) == [f"r{i}" for i in range(10)]
    gaps = [b - a for a, b in zip(sink.times, sink.times[1:], strict=False)]
    assert len(gaps) == 3
    for gap, delay in zip(gaps, (0.020, 0.040, 0.080), strict=True):
        assert delay * 0.9 <= gap < delay + 0.5
    assert tracker.stats() == {
        "tracked": 10, "sent": 10, "retried": 3, "dropped": 0, "queued": 0, "errors": 3,
    }  # fmt: skip


def test_after_max_retries_the_records_are_dropped_and_counted(caplog):
    sink = MemorySink(sink_name())
    sink.down = True
    tracker = tracker_with(sink, flush_interval_ms=2, backoff_ms=1, max_retries=2)
    model = echo_model()
    tracker.start()
    with caplog.at_level(logging.ERROR, "nuserve.tracking"):
        for i in range(5):
            track(tracker, model, i)
        wait_for(lambda: tracker.stats()["dropped"] == 5)
    assert "failed 3 times (memory sink" in caplog.text and "dropped 5 record(s)" in caplog.text
    sink.down = False
    for i in range(5, 8):
        track(tracker, model, i)
    assert tracker.wait_sent(5)
    tracker.close()
    assert ids(sink) == ["r5", "r6", "r7"]
    assert tracker.stats()["errors"] == 3


class HalfBroken(MemorySink):
    """Its first send delivers every message but the second."""

    def send(self, messages: list[bytes]) -> None:
        self.calls += 1
        if self.calls == 1:
            self.messages.extend(m for i, m in enumerate(messages) if i != 1)
            raise SinkError("one message failed", failed=[1])
        self.messages.extend(messages)


def test_only_failed_messages_are_sent_again():
    sink = HalfBroken(sink_name())
    tracker = tracker_with(sink, flush_interval_ms=2, backoff_ms=1)
    model = echo_model()
    for i in range(3):
        track(tracker, model, i)
    tracker.start()
    assert tracker.wait_sent(5)
    tracker.close()
    assert sorted(ids(sink)) == ["r0", "r1", "r2"]
    assert tracker.stats()["sent"] == 3


def test_close_sends_the_partial_batches():
    server, sink = serve(batch=50, flush_interval_ms=10_000)
    for i in range(120):
        request(server, i)
    time.sleep(0.05)
    assert sink.messages == []
    server.close()
    assert [len(orjson.loads(m)) for m in sink.messages] == [50, 50, 20]
    assert sink.closed


def test_a_partial_batch_goes_once_its_oldest_record_waited_an_interval():
    server, sink = serve(batch=50, flush_interval_ms=30)
    began = time.monotonic()
    for i in range(7):
        request(server, i)
    wait_for(lambda: sink.messages, timeout=2)
    assert time.monotonic() - began >= 0.03
    assert len(orjson.loads(sink.messages[0])) == 7
    server.close()


def test_close_gives_up_at_its_timeout_and_counts_what_is_left(caplog):
    sink = MemorySink(sink_name())
    sink.down = True
    tracker = tracker_with(sink, flush_interval_ms=5, backoff_ms=5)
    model = echo_model()
    tracker.start()
    for i in range(20):
        track(tracker, model, i)
    began = time.monotonic()
    with caplog.at_level(logging.ERROR, "nuserve.tracking"):
        tracker.close(timeout=0.2)
    assert time.monotonic() - began < 2
    assert tracker.stats()["dropped"] == 20 and tracker.stats()["queued"] == 0
    assert "tracking closed with 20 record(s) unsent" in caplog.text


def test_a_record_that_cannot_be_encoded_is_dropped_not_fatal(caplog):
    sink = MemorySink(sink_name())
    tracker = tracker_with(sink)
    model = echo_model()
    loop: list[object] = []
    loop.append(loop)
    track(tracker, model, 0, {"id": "loop", "inputs": loop})
    track(tracker, model, 1, {"id": "odd", "inputs": [object]})
    with caplog.at_level(logging.ERROR, "nuserve.tracking"):
        tracker.close()
    assert "tracking could not encode a record" in caplog.text
    (record,) = sink.records()
    assert record["request"] == {"id": "odd", "inputs": ["<class 'object'>"]}
    assert tracker.stats() == {
        "tracked": 2, "sent": 1, "retried": 0, "dropped": 1, "queued": 0, "errors": 1,
    }  # fmt: skip


def test_wait_sent_reports_a_stuck_queue():
    sink = MemorySink(sink_name())
    sink.down = True
    tracker = tracker_with(sink)
    track(tracker, echo_model(), 0)
    assert not tracker.wait_sent(0.05)
    sink.down = False
    tracker.close()
    assert tracker.stats()["sent"] == 1


def test_compact_keeps_the_bytes_and_passes_large_messages_through() -> None:
    from nuserve.tracking.sender import COMPACT_BELOW, compact

    small = orjson.dumps({"inputs": [[1.0, 2.0]], "id": "r"})
    copied = compact(small)
    assert copied == small
    assert copied is not small  # a block of its own, not orjson's oversized buffer
    large = b"x" * COMPACT_BELOW
    assert compact(large) is large  # copying a big message would cost more than it saves
