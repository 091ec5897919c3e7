"""Adaptive batching: merge rows and tensors, split outputs, isolate errors, never misalign."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import nuserve
from nuserve.event import Event
from nuserve.model.batching import merge_inputs, row_count, split_outputs


class CountingDoubler(nuserve.V2ModelServer):
    """Doubles each row; counts predict calls and the rows each call saw."""

    def load(self):
        self.calls = []

    def predict(self, request):
        inputs = request["inputs"]
        rows = np.asarray(inputs)
        if (rows < 0).any():
            raise ValueError("negative input")
        self.calls.append(len(rows))
        return (rows * 2).tolist() if isinstance(inputs, list) else rows * 2


class Shrinking(CountingDoubler):
    """Answers one row fewer than it was given (a broken batched model)."""

    def predict(self, request):
        return super().predict(request)[:-1]


def make_server(cls=CountingDoubler, **batching):
    fn = nuserve.new_function("b")
    fn.add_model(
        "m", class_name=cls, **(batching or {"max_batch_size": 8, "max_batch_time_ms": 20})
    )
    return fn.to_mock_server()


def test_merge_and_split_rows_and_tensors():
    assert row_count([[1], [2]]) == 2 and row_count(np.zeros((3, 2))) == 3
    assert row_count({"a": np.zeros((2, 1)), "b": np.zeros((2,))}) == 2
    assert row_count({"a": np.zeros((2, 1)), "b": np.zeros((3,))}) is None
    assert row_count("text") is None
    assert merge_inputs([[[1]], [[2], [3]]]) == [[1], [2], [3]]
    merged = merge_inputs([np.ones((1, 2)), np.zeros((2, 2))])
    assert merged.shape == (3, 2)
    assert split_outputs([1, 2, 3], [1, 2], "m") == [[1], [2, 3]]
    parts = split_outputs({"y": np.arange(3)}, [2, 1], "m")
    assert [p["y"].tolist() for p in parts] == [[0, 1], [2]]
    with pytest.raises(nuserve.ModelError, match="answered a batch of 3 rows with 2 rows"):
        split_outputs([1, 2], [1, 2], "m")


def test_batching_options_are_validated():
    with pytest.raises(nuserve.ConfigError, match="unknown batching options"):
        make_server(batching={"size": 3})
    with pytest.raises(nuserve.ConfigError, match="max_batch_size >= 1"):
        make_server(max_batch_size=0)


async def _concurrent(server, bodies):
    events = [Event(body, "/v2/models/m/infer") for body in bodies]
    return await asyncio.gather(*(server.run_async(e) for e in events))


def test_concurrent_requests_share_one_predict_and_get_their_own_rows():
    server = make_server()
    model = server.root.routes["m"]
    bodies = [{"inputs": [[i], [i + 100]]} for i in range(4)]
    responses = asyncio.run(_concurrent(server, bodies))
    assert model.calls == [8]
    for i, resp in enumerate(responses):
        assert resp.status_code == 200
        assert resp.body["outputs"] == [[2 * i], [2 * (i + 100)]]


def test_oip_tensors_are_batched_and_requested_outputs_honoured():
    server = make_server()
    model = server.root.routes["m"]
    bodies = [
        {
            "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [i, i]}],
            "outputs": [{"name": "output-0"}],
        }
        for i in range(3)
    ]
    responses = asyncio.run(_concurrent(server, bodies))
    assert model.calls == [3]
    assert [r.body["outputs"][0]["data"] for r in responses] == [[0, 0], [2, 2], [4, 4]]
    assert responses[0].body["outputs"][0]["shape"] == [1, 2]


def test_a_bad_request_does_not_fail_the_batch():
    server = make_server()
    bodies = [{"inputs": [[1]]}, {"inputs": [[-1]]}, {"inputs": [[3]]}, {"rows": 1}]
    responses = asyncio.run(_concurrent(server, bodies))
    assert [r.status_code for r in responses] == [200, 500, 200, 400]
    assert responses[1].body["error"] == "model 'm' raised in infer: ValueError: negative input"
    assert responses[2].body["outputs"] == [[6]]


def test_output_length_mismatch_fails_every_request_of_the_batch():
    server = make_server(Shrinking)
    responses = asyncio.run(_concurrent(server, [{"inputs": [[1]]}, {"inputs": [[2]]}]))
    assert [r.status_code for r in responses] == [500, 500]
    assert "answered a batch of 2 rows with 1 rows" in responses[0].body["error"]


def test_mock_server_test_works_with_batching():
    server = make_server()
    assert server.test("/v2/models/m/infer", {"inputs": [[5]]})["outputs"] == [[10]]


def test_run_batch_merges_a_list_of_events_into_one_predict():
    server = make_server()
    model = server.root.routes["m"]
    events = [Event({"inputs": [[i]]}, "/v2/models/m/infer") for i in range(5)]
    events.insert(2, Event({"inputs": [[1]]}, "/v2/models/zz/infer"))
    responses = server.run_batch(events)
    assert model.calls == [5]
    assert [r.status_code for r in responses] == [200, 200, 404, 200, 200, 200]
    assert [r.body["outputs"] for r in responses if r.status_code == 200] == [
        [[0]],
        [[2]],
        [[4]],
        [[6]],
        [[8]],
    ]


class TwoOutputs(nuserve.V2ModelServer):
    """Answers the outputs a request asks for (``a`` and ``b`` unless it names some), in the
    order it names them, times its ``parameters``' ``scale``; records each call."""

    def load(self):
        self.calls = []

    def predict(self, request):
        x = request["inputs"]
        scale = (request.get("parameters") or {}).get("scale", 1)
        self.calls.append((len(x), request.get("outputs"), request.get("parameters")))
        values = {"a": x + 1, "b": x * 10 * scale}
        names = [o["name"] for o in request.get("outputs") or []] or list(values)
        return {name: values[name] for name in names}


def two_outputs_body(i, names=None, parameters=None):
    body = {"inputs": [{"name": "x", "shape": [1, 1], "datatype": "FP64", "data": [i]}]}
    if names is not None:
        body["outputs"] = [{"name": n} for n in names]
    if parameters is not None:
        body["parameters"] = parameters
    return body


TWO_OUTPUT_BODIES = [
    two_outputs_body(1, ["b", "a"]),
    two_outputs_body(2, ["a", "b"]),
    two_outputs_body(3),
    two_outputs_body(4, ["a"]),
    two_outputs_body(5, ["b", "a"]),
    two_outputs_body(6, parameters={"scale": 2}),
    two_outputs_body(7),
]


@pytest.mark.parametrize("mode", ["concurrent", "nuclio batch"])
def test_each_request_of_a_batch_gets_its_own_outputs_and_parameters(mode):
    """Found by review: the merged predict saw the first request's ``outputs`` and
    ``parameters``, so a request that named none got the first one's order."""
    server = make_server(TwoOutputs)
    model = server.root.routes["m"]
    events = [Event(body, "/v2/models/m/infer") for body in TWO_OUTPUT_BODIES]
    if mode == "concurrent":
        responses = asyncio.run(_concurrent(server, TWO_OUTPUT_BODIES))
    else:
        responses = server.run_batch(events)
    assert [r.status_code for r in responses] == [200] * 7
    got = [[(o["name"], o["data"]) for o in r.body["outputs"]] for r in responses]
    assert got == [
        [("b", [10.0]), ("a", [2.0])],
        [("a", [3.0]), ("b", [20.0])],
        [("a", [4.0]), ("b", [30.0])],
        [("a", [5.0])],
        [("b", [50.0]), ("a", [6.0])],
        [("a", [7.0]), ("b", [120.0])],
        [("a", [8.0]), ("b", [70.0])],
    ]
    # requests that ask alike still share a predict: 1 and 5, 3 and 7
    assert sorted(rows for rows, _, _ in model.calls) == [1, 1, 1, 2, 2]


def test_a_lone_client_stops_waiting_and_concurrent_ones_still_share_a_predict():
    """c=1 once paid max_batch_time_ms on every request: the wait is learned from arrivals."""
    server = make_server(max_batch_size=8, max_batch_time_ms=200)
    model = server.root.routes["m"]
    batcher = model.batcher

    async def lone_then_together():
        for i in range(8):  # one at a time: each wait ends alone, so the next wait halves
            answer = await server.run_async(Event({"inputs": [[i]]}, "/v2/models/m/infer"))
            assert answer.body["outputs"] == [[2 * i]]
        waited_after_lone = batcher.wait
        started = asyncio.get_running_loop().time()
        answers = await _concurrent(server, [{"inputs": [[i]]} for i in range(4)])
        took = asyncio.get_running_loop().time() - started
        return waited_after_lone, answers, took

    waited, answers, took = asyncio.run(lone_then_together())
    assert waited == 0.0  # 200 ms halved below 200/16 ms: no wait at all
    assert took < 0.2  # the four did not wait out a timer
    assert model.calls[-1] == 4  # arrived in the same loop turn: one predict still
    assert [a.body["outputs"] for a in answers] == [[[0]], [[2]], [[4]], [[6]]]
    assert batcher.wait > 0.0  # a wait that gathered others grows again


def test_a_full_batch_restores_the_whole_wait():
    server = make_server(max_batch_size=2, max_batch_time_ms=200)
    batcher = server.root.routes["m"].batcher
    asyncio.run(server.run_async(Event({"inputs": [[1]]}, "/v2/models/m/infer")))
    assert batcher.wait == 0.1
    asyncio.run(_concurrent(server, [{"inputs": [[1]]}, {"inputs": [[2]]}]))
    assert batcher.wait == 0.2


def test_a_batch_goes_once_its_requests_stop_coming_not_when_its_wait_ends():
    """16 clients that wait for their answers, a batch of 32 allowed: no 17th request can come,
    so waiting out max_batch_time_ms on every batch only added latency."""
    server = make_server(max_batch_size=32, max_batch_time_ms=400)
    model = server.root.routes["m"]
    batcher = model.batcher

    async def rounds():
        loop = asyncio.get_running_loop()
        took = []
        for _ in range(4):
            started = loop.time()
            answers = await _concurrent(server, [{"inputs": [[i]]} for i in range(16)])
            took.append(loop.time() - started)
            assert [a.body["outputs"] for a in answers] == [[[2 * i]] for i in range(16)]
        return took

    took = asyncio.run(rounds())
    assert took[0] >= 0.35  # the first batch knows no gap yet: it waits the whole wait
    assert max(took[1:]) < 0.1, took  # then each goes once the 16 are in
    assert model.calls[-4:] == [16, 16, 16, 16]  # still one predict per round
    assert batcher.gap is not None and batcher.wait == 0.4  # a batch that gathered keeps the wait


def test_a_stray_timer_does_not_teach_the_batcher_a_shorter_wait():
    """A batch sent early (the requests stopped coming) cancels its wait's timer: a timer left
    behind would fire on no request and halve the wait."""
    server = make_server(max_batch_size=32, max_batch_time_ms=100)
    batcher = server.root.routes["m"].batcher

    async def rounds():
        for _ in range(3):
            await _concurrent(server, [{"inputs": [[i]]} for i in range(4)])
        await asyncio.sleep(0.25)  # past any wait left behind

    asyncio.run(rounds())
    assert batcher.wait == 0.1
