"""The record of a tracked request: wire.md's fields, errors, metrics, logged_results, async."""

from __future__ import annotations

import inspect
import logging
from datetime import UTC, datetime, timedelta

import pytest

import nuserve
from nuserve.errors import BadRequest, ModelError
from nuserve.event import Event
from nuserve.tracking.record import endpoint_id
from tests.models import AsyncEcho, Echo, Raising
from tests.unit.tracking.helpers import (
    WIRE_FIELDS,
    AsyncMetered,
    BadLogger,
    Chosen,
    Metered,
    NumpyOut,
    Sleepy,
    memory_sink,
    request,
    serve,
    sink_name,
)


def test_one_record_per_request_with_every_wire_field():
    before = datetime.now(UTC)
    fn = nuserve.new_function("fraud")
    fn.spec.tracking = {"stream_path": f"memory://{sink_name()}"}
    fn.add_model("m:v2", class_name=Echo, labels={"team": "risk"})
    server = fn.to_mock_server()
    sink = memory_sink(server)
    assert server.test("/v2/models/m/infer", {"id": "abc", "inputs": [[1, 2]]})["outputs"]
    server.test("/v2/models/m/versions/v2/predict", {"inputs": [[3, 4]]})
    server.close()

    first, second = sink.records()
    assert list(first) == WIRE_FIELDS
    assert first["schema"] == 1
    assert (first["class"], first["model"], first["version"]) == ("Echo", "m", "v2")
    assert first["function_uri"] == "fraud"
    assert first["endpoint_id"] == endpoint_id("fraud", "m", "v2") == second["endpoint_id"]
    assert first["labels"] == {"team": "risk"}
    assert first["host"] and first["worker"] is None
    when = datetime.fromisoformat(first["when"])
    assert before - timedelta(seconds=1) <= when <= datetime.now(UTC)
    assert isinstance(first["microsec"], int) and 0 <= first["microsec"] < 1_000_000
    assert first["op"] == "infer" and second["op"] == "predict"
    assert first["request"] == {"id": "abc", "inputs": [[1, 2]]}
    assert first["resp"] == {"outputs": [[1, 2]]}
    assert second["request"]["id"]  # the event id when the body has none
    assert first["metrics"] == {}
    assert (first["sampling_percentage"], first["effective_sample_count"]) == (100, 1)


def test_endpoint_id_is_stable_and_mlrun_shaped():
    assert endpoint_id("p/fn", "m", "") == endpoint_id("p/fn", "m", "latest")
    assert endpoint_id("p/fn", "m", "1") != endpoint_id("p/fn", "m", "2")
    assert len(endpoint_id("p/fn", "m", "")) == 40


def test_model_errors_are_tracked_and_the_response_unchanged():
    server, sink = serve(Raising)
    answer = request(server, 7, silent=True, get_body=False)
    assert answer.status_code == 500
    server.close()
    (record,) = sink.records()
    assert record["error"] == answer.body["error"]
    assert record["error"].startswith("model 'm' raised in infer: ValueError: cannot handle")
    assert record["request"] == {"id": "r7", "inputs": [[7]]}
    assert record["resp"] == {"outputs": None}
    assert list(record)[-3:] == ["error", "sampling_percentage", "effective_sample_count"]


def test_the_exception_is_reraised_as_raised():
    server, sink = serve(Echo)
    model = server.root.routes["m"]
    boom = ModelError("the very same")

    def infer(event, operation, protocol=None):
        raise boom

    model.infer = infer  # type: ignore[method-assign]
    assert server.tracker is not None
    with pytest.raises(ModelError) as info:
        server.tracker.run(model, Event({"inputs": [1]}), "infer", None)
    assert info.value is boom
    server.close()
    assert sink.records()[0]["error"] == "the very same"


def test_a_body_that_is_not_json_is_tracked_as_an_error():
    server, sink = serve(Echo)
    answer = server.test("/v2/models/m/infer", b"{nope", silent=True, get_body=False)
    server.close()
    (record,) = sink.records()
    assert answer.status_code == BadRequest.status
    assert record["error"].startswith("request body is not valid JSON")
    assert record["request"]["inputs"] is None


def test_metrics_belong_to_their_request():
    server, sink = serve(Metered)
    for i in range(4):
        request(server, i)
    server.close()
    metrics = [r["metrics"] for r in sink.records()]
    assert metrics == [{"even": 0, "score": 0.5}, {}, {"even": 2, "score": 0.5}, {}]


def test_logged_results_override_chooses_what_is_recorded():
    server, sink = serve(Chosen)
    assert request(server, 3)["outputs"] == [[6]]
    server.close()
    (record,) = sink.records()
    assert record["request"]["inputs"] == [3]
    assert record["resp"]["outputs"] == {"rows": 1, "op": "infer"}


def test_a_failing_logged_results_costs_the_record_fields_not_the_request(caplog):
    server, sink = serve(BadLogger)
    with caplog.at_level(logging.ERROR, "nuserve.tracking"):
        assert request(server, 1)["outputs"] == [[1]]
        assert request(server, 2)["outputs"] == [[2]]
    tracker = server.tracker
    assert tracker is not None
    server.close()
    records = sink.records()
    assert [r["request"]["inputs"] for r in records] == [None, None]
    assert tracker.stats()["errors"] == 2
    logged = [r.message for r in caplog.records if r.name == "nuserve.tracking"]
    assert logged == ["BadLogger.logged_results raised"]  # once: the second is held back


def test_async_models_are_tracked_through_an_awaitable():
    server, sink = serve(AsyncMetered)
    assert server.tracker is not None
    model = server.root.routes["m"]
    pending = server.tracker.run(model, Event({"id": "a1", "inputs": [[5]]}), "infer", None)
    assert inspect.isawaitable(pending)
    pending.close()  # type: ignore[union-attr]
    assert request(server, 4)["outputs"] == [[4]]
    server.close()
    (record,) = sink.records()
    assert record["class"] == "AsyncMetered"
    assert record["metrics"] == {"async": True}
    assert record["resp"]["outputs"] == [[4]]


def test_async_hooks_and_errors():
    server, sink = serve(AsyncEcho)
    request(server, 1)
    server.test("/v2/models/m/infer", {"nope": 1}, silent=True)
    server.close()
    ok, bad = sink.records()
    assert ok["resp"]["outputs"] == {"inputs": [[1]], "pre": True}
    assert bad["error"].startswith(
        "request to model 'm' has no 'inputs' (got keys ['nope', 'pre'])"
    )


def test_latency_over_a_second_does_not_wrap():
    server, sink = serve(Sleepy)
    request(server, 1)
    server.close()
    (record,) = sink.records()
    assert 1_200_000 <= record["microsec"] < 5_000_000


def test_numpy_and_odd_values_are_encoded():
    server, sink = serve(NumpyOut)
    request(server, 1)
    server.close()
    (record,) = sink.records()
    assert record["resp"]["outputs"] == {
        "grid": [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]],
        "column": [1.0, 4.0],
        "n": 3,
        "odd": {"1": "one"},
    }


def test_requests_after_close_are_served_untracked():
    server, sink = serve(Echo)
    tracker = server.tracker
    assert tracker is not None
    request(server, 1)
    tracker.close()
    model = server.root.routes["m"]
    response = tracker.run(model, Event({"inputs": [[2]]}), "infer", None)
    assert response.body["outputs"] == [[2]]  # type: ignore[union-attr]
    assert tracker.stats()["tracked"] == 1
    server.close()
