"""MLRun's serving spec (SERVING_SPEC_ENV, MLRun's function.yaml) read by nuserve."""

from __future__ import annotations

import json

import pytest
import yaml

from nuserve import ConfigError
from nuserve.nuclio.spec_env import read_spec, spec_from_file
from nuserve.spec.flow import FlowSpec
from nuserve.spec.routers import RouterSpec
from nuserve.spec.serving import ServingSpec

ROUTER = {
    "version": "v2",
    "parameters": {"p": 1},
    "graph": {
        "kind": "router",
        "class_name": "mlrun.serving.routers.VotingEnsemble",
        "class_args": {"vote_type": "regression"},
        "routes": {"m1": {"class_name": "MyModel", "class_args": {"model_path": "/m", "k": 2}}},
    },
    "load_mode": "sync",
    "verbose": True,
    "function_uri": "proj/func:latest",
}
FLOW = {
    "version": "v2",
    "graph": {
        "kind": "flow",
        "engine": "sync",
        "steps": {
            "s1": {"kind": "task", "class_name": "Echo"},
            "s2": {"kind": "task", "handler": "json.dumps", "after": ["s1"], "responder": True},
        },
    },
}


def test_router_specs_convert():
    spec = ServingSpec.from_dict(ROUTER)
    assert isinstance(spec.graph, RouterSpec) and spec.name == "func"
    route = spec.graph.routes["m1"]
    assert (route.class_name, route.model_path, route.class_args) == ("MyModel", "/m", {"k": 2})
    assert spec.parameters == {"p": 1}


def test_flow_specs_convert():
    spec = ServingSpec.from_dict(FLOW)
    assert isinstance(spec.graph, FlowSpec) and spec.graph.engine == "sync"
    assert spec.graph.steps["s2"].after == ["s1"] and spec.graph.steps["s2"].responder


@pytest.mark.parametrize(
    ("where", "change"),
    [("the spec", lambda d: d.update(surprise=1)),
     ("route 'm1'", lambda d: d["graph"]["routes"]["m1"].update(colour="red"))],
)  # fmt: skip
def test_unknown_fields_are_named(where, change):
    data = json.loads(json.dumps(ROUTER))
    change(data)
    with pytest.raises(ConfigError, match=rf"unknown field\(s\) '(surprise|colour)' in {where}"):
        ServingSpec.from_dict(data)


def test_the_environment_variable_mlrun_sets_is_read():
    spec = read_spec({"SERVING_SPEC_ENV": json.dumps(FLOW)})
    assert list(spec.graph.steps) == ["s1", "s2"]


def test_an_mlrun_generated_function_yaml_is_read(tmp_path):
    doc = {"kind": "nuclio:serving", "spec": {"env": [
        {"name": "SERVING_SPEC_ENV", "value": json.dumps(ROUTER)}]}}  # fmt: skip
    path = tmp_path / "function.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert list(spec_from_file(path).graph.routes) == ["m1"]


def test_mlrun_step_descriptions_round_trip_through_the_spec():
    from nuserve.serving.states import RouterStep, TaskStep

    router = RouterStep(class_name="mlrun.serving.routers.VotingEnsemble",
                        class_args={"vote_type": "regression"})  # fmt: skip
    router.routes = {"m1": TaskStep("MyModel", class_args={"model_path": "/m", "k": 1})}
    data = router.to_dict()
    assert data["routes"] == {"m1": {"class_name": "MyModel",
                                     "class_args": {"model_path": "/m", "k": 1}}}  # fmt: skip
    spec = ServingSpec.from_dict({"version": "v2", "graph": data})
    route = spec.graph.routes["m1"]
    assert (spec.graph.class_args, route.model_path, route.class_args) == (
        {"vote_type": "regression"}, "/m", {"k": 1},
    )  # fmt: skip
