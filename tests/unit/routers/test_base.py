"""BaseRouter: a custom router's paths, listing, metadata, errors, tracking and fan-out."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import nuserve
from nuserve.routers.base import BaseRouter
from nuserve.routers.parallel import ParallelRun
from tests.models import AsyncEcho, Echo, Summer
from tests.unit.routers.fakes import AsyncConst, Const, Failing, router_fn


class FirstTwo(BaseRouter):
    """Asks the first two models and answers the sum of their outputs, row by row."""

    def select_routes(self, event, request):
        return list(self.routes.values())[:2]

    def merge(self, event, request, results):
        return [sum(row) for row in zip(*results.values(), strict=True)]

    def op_count(self, event):
        return {"routes": len(self.routes), "got": event.body}


@pytest.fixture
def server():
    models = {
        "a": (Const, {"value": 1}),
        "b": (Const, {"value": 10}),
        "c": (Const, {"value": 100}),
    }
    return router_fn(FirstTwo, models, name="pair").to_mock_server()


BODY = {"inputs": [[0], [0]]}


def test_the_router_answers_its_own_paths_and_children_stay_reachable(server):
    for path in ("/v2/models/pair/infer", "/v2/models/pair/predict", "/v2/models/infer", "/"):
        out = server.test(path, BODY)
        assert (out["model_name"], out["outputs"]) == ("pair", [11, 11]), path
    assert server.test("/", {"model": "pair", "inputs": [[0]]})["outputs"] == [11]
    assert server.test("/", {"model": "c", "inputs": [[0]]})["outputs"] == [100]
    assert server.test("/v2/models/c/infer", BODY)["outputs"] == [100, 100]
    assert server.test("/v1/models/pair:predict", {"instances": [[0]]}) == {"predictions": [11]}
    assert server.test("/v2/models/pair/count", {"x": 1}) == {"routes": 3, "got": {"x": 1}}


def test_the_response_keeps_the_request_id_and_the_protocol(server):
    assert server.test("/v2/models/pair/infer", {"id": "r1", "inputs": [[0]]})["id"] == "r1"
    oip = {"inputs": [{"name": "x", "shape": [2, 1], "datatype": "INT64", "data": [0, 0]}]}
    out = server.test("/v2/models/pair/infer", oip)
    assert out["model_name"] == "pair"
    assert out["outputs"][0]["data"] == [11, 11]


def test_listing_metadata_and_readiness_show_the_router(server):
    listing = server.test("/v2/models")
    assert listing["models"] == ["a", "b", "c", "pair"]
    assert listing["routers"] == {"pair": {"kind": "FirstTwo", "routes": ["a", "b", "c"]}}
    meta = server.test("/v2/models/pair")
    assert meta["name"] == "pair" and meta["kind"] == "FirstTwo"
    assert meta["operations"] == ["infer", "predict", "explain", "count"]
    assert server.test("/v2/models/pair/ready") == {"name": "pair", "ready": True}
    assert server.test("/v2/health/ready") == {"ready": True, "models": 3}
    err = server.test("/v2/models/pair/fly", BODY, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (
        404,
        "model 'pair' has no operation 'fly' (operations: infer, predict, explain, ready, count)",
    )


def test_the_default_name_is_the_class_name():
    server = router_fn(ParallelRun, {"e": (Echo, {})}).to_mock_server()
    assert server.test("/v2/models/ParallelRun/infer", {"inputs": [1]})["outputs"] == {"e": [1]}


@pytest.mark.parametrize(
    ("models", "args", "message"),
    [
        ({"e": (Echo, {})}, {"wieghts": 1}, "FirstTwo got unknown argument(s) 'wieghts'; check"),
        ({"pair": (Echo, {})}, {"name": "pair"}, "model 'pair' has the name of its router"),
        ({}, {}, "router 'FirstTwo' has no models; add them with fn.add_model(...)"),
        ({"e": (Echo, {})}, {"name": "a:b"}, "router name 'a:b' must be a plain name"),
    ],
)
def test_bad_configurations_are_config_errors(models, args, message):
    fn = router_fn(FirstTwo, models, **args)
    if not models:
        fn.spec.graph.routes.clear()
    with pytest.raises(nuserve.ConfigError) as info:
        fn.to_mock_server()
    assert str(info.value).startswith(message)


def test_mlrun_router_arguments_are_accepted():
    fn = router_fn(ParallelRun, {"e": (Echo, {})}, executor_type="thread", url_prefix="/x")
    assert fn.to_mock_server().test("/", {"inputs": [2]})["outputs"] == {"e": [2]}


def test_a_failing_child_fails_the_request_naming_it():
    models = {"ok": (Echo, {}), "bad": (Failing, {}), "picky": (Failing, {"bad": True})}
    server = router_fn(ParallelRun, models, name="all").to_mock_server()
    err = server.test("/v2/models/all/infer", {"inputs": [1]}, silent=True, get_body=False)
    assert err.status_code == 500
    assert err.body["error"] == (
        "model 'bad' of router 'all' failed: model 'bad' raised in infer: ValueError: boom"
    )
    assert err.body["id"]
    fn = router_fn(ParallelRun, {"ok": (Echo, {}), "picky": (Failing, {"bad": True})}, name="p")
    err = fn.to_mock_server().test("/", {"inputs": [1]}, silent=True, get_body=False)
    assert (err.status_code, err.body["error"]) == (
        400,
        "model 'picky' of router 'p' failed: model 'picky' wants positive inputs",
    )


class Stranger(BaseRouter):
    def select_routes(self, event, request):
        return [Echo(name="elsewhere")]


def test_select_routes_must_return_routes():
    server = router_fn(Stranger, {"e": (Echo, {})}).to_mock_server()
    err = server.test("/", {"inputs": [1]}, silent=True, get_body=False)
    assert err.status_code == 500
    assert err.body["error"].startswith("router 'Stranger' chose 'elsewhere', which is not one")


class Recorder:
    """A tracker that records what it runs."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def run(self, model, event, operation, protocol):
        with self.lock:
            self.calls.append((model.name, operation, event.id))
        if model.is_async:
            return model.infer_async(event, operation, protocol)
        return model.infer(event, operation, protocol)


@pytest.mark.parametrize("child", [Echo, AsyncEcho])
def test_children_called_through_the_router_are_tracked(child):
    server = router_fn(ParallelRun, {"x": (child, {}), "y": (child, {})}, name="r").to_mock_server()
    tracker = Recorder()
    for model in server.root.models():
        model.tracker = tracker
    server.test("/v2/models/r/infer", {"inputs": [1]}, event_id="ev-1")
    assert sorted(tracker.calls) == [("x", "infer", "ev-1"), ("y", "infer", "ev-1")]


class Mutating(nuserve.V2ModelServer):
    def load(self):
        self.model = "m"

    def preprocess(self, request, operation):
        request["seen"] = self.name
        return request

    def predict(self, request):
        return [request["seen"]]


def test_children_get_their_own_request_dict():
    server = router_fn(ParallelRun, {"p": (Mutating, {}), "q": (Mutating, {})}).to_mock_server()
    out = server.test("/", {"inputs": [1]})
    assert out["outputs"] == {"p": ["p"], "q": ["q"]}


def test_explain_answers_each_childs_explanation():
    server = router_fn(FirstTwo, {"s": (Summer, {}), "t": (Summer, {})}, name="x").to_mock_server()
    out = server.test("/v2/models/x/explain", {"inputs": [[1, 5], [7, 2]]})
    assert out["outputs"] == {"s": [1, 0], "t": [1, 0]}
    assert server.test("/v2/models/x/infer", {"inputs": [[1, 5]]})["outputs"] == [12]
    server = router_fn(FirstTwo, {"a": (Const, {"value": 1}), "b": (Echo, {})}).to_mock_server()
    err = server.test("/v2/models/FirstTwo/explain", {"inputs": [1]}, silent=True, get_body=False)
    assert err.status_code == 404  # Const and Echo have no explain: named, not swallowed, no 500
    assert "model 'a' of router 'FirstTwo' failed" in err.body["error"]


def run_async(server, path, body):
    return asyncio.run(server.run_async(nuserve.Event(body, path)))


@pytest.mark.parametrize(
    "kinds", [(Const,) * 4, (AsyncConst,) * 4, (Const, AsyncConst, Const, AsyncConst)]
)
def test_children_run_concurrently_on_both_paths(kinds):
    models = {f"m{i}": (cls, {"value": i, "sleep": 0.05}) for i, cls in enumerate(kinds)}
    server = router_fn(ParallelRun, models, name="four").to_mock_server()
    server.test("/", {"inputs": [0]})  # warm the pool
    start = time.perf_counter()
    out = server.test("/v2/models/four/infer", {"inputs": [0]})
    sync_s = time.perf_counter() - start
    assert out["outputs"] == {f"m{i}": [i] for i in range(4)}
    start = time.perf_counter()
    response = run_async(server, "/v2/models/four/infer", {"inputs": [0]})
    async_s = time.perf_counter() - start
    assert response.status_code == 200 and response.body["outputs"] == out["outputs"]
    assert sync_s < 0.15 and async_s < 0.15, (sync_s, async_s)


def test_a_router_of_async_children_answers_both_paths():
    fn = router_fn(FirstTwo, {"a": (AsyncConst, {"value": 2}), "b": (AsyncConst, {"value": 3})})
    server = fn.to_mock_server()
    assert server.test("/", {"inputs": [0]})["outputs"] == [5]
    assert run_async(server, "/", {"inputs": [0]}).body["outputs"] == [5]


def test_a_router_of_one_child_answers_with_the_childs_response():
    class Only(BaseRouter):
        def select_routes(self, event, request: dict[str, Any]):
            return [self.routes["b:v2"]]

    fn = router_fn(Only, {"a": (Const, {"value": 1}), "b:v2": (Const, {"value": 2})})
    out = fn.to_mock_server().test("/", {"inputs": [0]})
    assert (out["model_name"], out["model_version"], out["outputs"]) == ("b", "v2", [2])
