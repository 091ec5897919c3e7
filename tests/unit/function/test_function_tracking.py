"""``fn.set_tracking`` records requests through the tracker, from the builder to the sink."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.event import Event
from nuserve.tracking.sinks.memory import MemorySink
from tests.models import Echo


def test_set_tracking_records_every_request_and_round_trips_in_the_spec():
    fn = nuserve.new_function("tracked")
    fn.add_model("e:v1", class_name=Echo, max_batch_size=4, max_batch_time_ms=1)
    assert fn.set_tracking("memory://fn-tracking-test", batch=2) is fn
    spec = fn.spec.serving_spec().to_dict()
    assert spec["tracking"]["stream_path"] == "memory://fn-tracking-test"
    server = fn.to_mock_server()
    for i in range(3):
        server.test("/v2/models/e/infer", {"inputs": [[i]]})
    responses = server.run_batch([Event({"inputs": [[9]]}, "/v2/models/e/infer")])
    assert responses[0].status_code == 200
    server.close()
    records = MemorySink.named("fn-tracking-test").records()
    assert [r["request"]["inputs"] for r in records] == [[[0]], [[1]], [[2]], [[9]]]
    assert {r["model"] for r in records} == {"e"} and {r["version"] for r in records} == {"v1"}


def test_set_tracking_rejects_bad_values():
    fn = nuserve.new_function("tracked")
    with pytest.raises(nuserve.ConfigError, match="batch must be an int >= 1"):
        fn.set_tracking("memory://x", batch=0)
