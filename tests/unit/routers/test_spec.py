"""Routers and remote models through the serving spec: round trip, bare names, bad config."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import nuserve
from nuserve.routers.bandit import EpsilonGreedyRouter, ThompsonSamplingRouter
from nuserve.routers.base import BaseRouter
from nuserve.routers.ensemble import VotingEnsemble
from nuserve.routers.parallel import ParallelRun
from nuserve.routers.remote import RemoteModel
from nuserve.routers.weighted import WeightedRouter
from nuserve.server.graph_server import GraphServer
from nuserve.spec.serving import ServingSpec
from tests.unit.routers.fakes import Const

BUILT_INS = {
    cls.__name__: cls
    for cls in (
        BaseRouter, EpsilonGreedyRouter, ParallelRun, RemoteModel, ThompsonSamplingRouter,
        VotingEnsemble, WeightedRouter,
    )
}  # fmt: skip


def test_the_spec_round_trip_serves_the_same_router():
    fn = nuserve.new_function("rt")
    fn.set_topology("router", class_name=VotingEnsemble, name="ens", weights={"a": 1, "b": 3})
    fn.add_model("a", class_name=Const, value=1.0)
    fn.add_model("b", class_name=Const, value=2.0)
    fn.add_model("far", model_url="http://127.0.0.1:9/v2/models/x", timeout=1)
    data = json.loads(json.dumps(fn.spec.serving_spec().to_dict()))
    assert data["graph"]["class_name"] == "nuserve.routers.ensemble.VotingEnsemble"
    assert data["graph"]["routes"][2] == {
        "key": "far",
        "class_name": None,
        "model_url": "http://127.0.0.1:9/v2/models/x",
        "class_args": {"timeout": 1},
    }
    data["graph"]["routes"].pop()  # nothing listens on port 9
    server = GraphServer(ServingSpec.from_dict(data)).start()
    out = server.run(nuserve.Event({"inputs": [[0]]}, "/v2/models/ens/infer")).body
    assert out["outputs"] == [1.75]
    server.close()


@pytest.mark.parametrize("name", sorted(BUILT_INS))
def test_built_in_classes_resolve_by_bare_name(name):
    fn = nuserve.new_function("bare")
    if name == "RemoteModel":
        fn.add_model("r", class_name=name, model_url="http://127.0.0.1:9/v2/models/x")
        server = fn.to_mock_server(namespace=BUILT_INS)
        assert isinstance(server.root.routes["r"], RemoteModel)
        return
    fn.set_topology("router", class_name=name, name="top")
    fn.add_model("a", class_name=Const, value=1)
    server = fn.to_mock_server(namespace=BUILT_INS)
    assert type(server.root) is BUILT_INS[name]
    out = server.test("/v2/models/top/infer", {"inputs": [[0]]})["outputs"]
    assert out == ({"a": [1]} if name == "ParallelRun" else [1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"model_url": "ftp://h/v2/models/x"},
         "remote model 'r': model_url must be http(s)://host[:port]/v2/models/<model> "
         "(got 'ftp://h/v2/models/x')"),
        ({"model_url": "http:///v2/models/x"}, "remote model 'r': model_url must be"),
        ({"model_url": "http://h/v2/models/x", "timeout": 0},
         "remote model 'r': timeout must be more than 0 seconds (got 0)"),
        ({"model_url": "http://h/v2/models/x", "timeout": "1"},
         "remote model 'r': timeout must be a number ≥ 0.0 (got '1')"),
        ({"model_url": "http://h/v2/models/x", "retries": -1},
         "remote model 'r': retries must be an integer ≥ 0 (got -1)"),
        ({"model_url": "http://h/v2/models/x", "max_connections": 0},
         "remote model 'r': max_connections must be an integer ≥ 1 (got 0)"),
    ],
)  # fmt: skip
def test_bad_remote_arguments(args, message):
    fn = nuserve.new_function("bad")
    fn.add_model("r", **args)
    with pytest.raises(nuserve.ConfigError) as info:
        fn.to_mock_server()
    assert str(info.value).startswith(message)


def test_router_modules_do_not_import_http_client():
    modules = ", ".join(f"nuserve.routers.{m}" for m in
                        ("base", "bandit", "ensemble", "parallel", "remote", "weighted"))  # fmt: skip
    code = f"import sys, json, {modules}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not {"http.client", "email"} & set(json.loads(out.stdout))
