"""FlowSpec round trips through to_dict/from_dict and JSON, and refuses what it cannot be."""

from __future__ import annotations

import json

import pytest

from nuserve import ConfigError
from nuserve.graph import FlowBuilder, FlowSpec
from nuserve.spec.routers import RouterSpec
from tests.models import Echo
from tests.unit.graph.flow_steps import Add, Catcher, Double, inc
from tests.unit.graph.harness import build, run


def sample() -> FlowBuilder:
    graph = FlowBuilder(engine="async")
    first = graph.to(Add, name="add", amount=3, input_path="in", result_path="out")
    first.to(Double, name="dbl", input_path="out")
    first.to("*", name="router").add_route("echo", Echo, model_path="m.pkl")
    graph.add_step("$merge", name="join", after=["dbl", "router"]).respond()
    graph["join"].to(">>", "q", path="memory://spec-test", flush_timeout=1.0)
    graph["q"].to(inc, name="child_inc", function="child")
    graph.error_handler(Catcher, name="catch")
    return graph


def test_round_trip_through_json():
    spec = sample().spec
    data = spec.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = FlowSpec.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    assert data["kind"] == "flow" and data["engine"] == "async"
    steps = {s["name"]: s for s in data["steps"]}
    assert steps["add"] == {
        "name": "add", "kind": "task", "class_name": "tests.unit.graph.flow_steps.Add",
        "class_args": {"amount": 3}, "input_path": "in", "result_path": "out",
    }  # fmt: skip
    assert steps["join"] == {
        "name": "join", "kind": "merge", "after": ["dbl", "router"], "responder": True,
    }  # fmt: skip
    assert steps["q"]["path"] == "memory://spec-test"
    assert steps["q"]["class_args"] == {"flush_timeout": 1.0}
    assert steps["child_inc"]["handler"] == "tests.unit.graph.flow_steps.inc"
    assert steps["child_inc"]["function"] == "child"
    assert steps["router"]["router"]["routes"][0]["class_name"] == "tests.models.Echo"
    assert data["on_error"]["class_name"] == "tests.unit.graph.flow_steps.Catcher"


def test_the_loaded_spec_answers_like_the_built_one():
    graph = FlowBuilder()
    graph.to(Add, amount=2).to(inc, input_path="x", result_path="y")
    loaded = FlowSpec.from_dict(json.loads(json.dumps(graph.spec.to_dict())))
    assert run(build(loaded), {"x": 1}).body == run(build(graph), {"x": 1}).body == {"x": 3, "y": 4}


def test_copy_is_independent():
    spec = sample().spec
    copy = spec.copy()
    copy.steps["add"].class_args["amount"] = 99
    copy.steps["router"].router.add_route("other", Echo)
    copy.steps["dbl"].after.append("x")
    assert spec.steps["add"].class_args == {"amount": 3}
    assert list(spec.steps["router"].router.routes) == ["echo"]
    assert spec.steps["dbl"].after == ["add"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "router"}, "graph kind 'router' is not a flow"),
        (
            {"kind": "flow", "engine": "threads"},
            r"flow engine must be 'sync' or 'async' \(got 'threads'\)",
        ),
        (
            {"kind": "flow", "steps": [{"kind": "task"}]},
            "a flow step must be an object with a 'name'",
        ),
        (
            {"kind": "flow", "steps": [{"name": "a", "kind": "magic"}]},
            "step 'a' has kind 'magic'; expected one of task, router, queue, merge",
        ),
        ({"kind": "flow", "steps": [{"name": "a"}, {"name": "a"}]}, r"\['a'\] appear twice"),
    ],
)
def test_bad_dicts_are_config_errors(data, message):
    with pytest.raises(ConfigError, match=message):
        FlowSpec.from_dict(data)


def test_router_lookup_names_the_routers():
    spec = sample().spec
    assert isinstance(spec.router(), RouterSpec)
    with pytest.raises(ConfigError, match=r"no router step 'nope' .*\(router steps: 'router'\)"):
        spec.router("nope")
    with pytest.raises(ConfigError, match=r"no one router step .*\(router steps: none\)"):
        FlowSpec().router()


def test_the_package_exports_lazily_what_it_lists():
    import subprocess
    import sys

    import nuserve.graph

    assert set(nuserve.graph.__all__) == set(nuserve.graph._MODULES)
    for name in nuserve.graph.__all__:
        assert getattr(nuserve.graph, name).__name__ == name
    code = "import sys, nuserve.graph.steps; print(sorted(m for m in sys.modules if m.startswith('nuserve.graph')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['nuserve.graph', 'nuserve.graph.steps']"
