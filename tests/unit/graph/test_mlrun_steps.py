"""MLRun's step semantics in nuserve's flows, through the public builder and mock server."""

from __future__ import annotations

import os
from copy import copy

import pytest

import nuserve
from nuserve import ConfigError, MLRunInvalidArgumentError, V2ModelServer
from nuserve.serving.merger import Merge


class Echo:  # no base class, a keyword-only constructor
    def __init__(self, name=None):
        self.name = name

    def do(self, x):
        return x


class Named:  # takes **kwargs: gets context, name, paths, full_event
    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def do(self, x):
        return [x, self.kwargs["name"], sorted(self.kwargs)]


class Adder:
    def __init__(self, add=2):
        self.add = add

    def do(self, x):
        return x + self.add


class Chain:
    def __init__(self, context, name=None):
        self.context, self.name = context, name

    def do(self, x):
        x = copy(x)
        x.append(self.name)
        return x


class Gather:
    def __init__(self, context):
        context.got = []
        self.context = context

    def do(self, x):
        self.context.got.append(x)
        return x


class WholeEvent:
    def do_event(self, event):
        return {"path": event.path, "body": event.body}


class Raiser:
    def do(self, x):
        raise ValueError(f"bad {x}")


class Catch:
    def do(self, event):
        event.body = {"error": event.error, "origin": event.origin_state, "input": event.body}
        return event


def with_context(x, context=None):
    return [x, context.function_name]


async def double(x):
    return x * 2


class Model(V2ModelServer):
    def load(self):
        self.model = "ok"

    def predict(self, request):
        return request["inputs"][0] * self.get_param("multiplier", 1)


def mock(fn, **kwargs):
    return fn.to_mock_server(namespace=globals(), **kwargs)


def test_plain_classes_get_only_the_arguments_they_declare():
    fn = nuserve.new_function("t")
    fn.set_topology("flow", engine="sync").to(Echo, name="e").to(Named, name="n")
    body, name, args = mock(fn).test(body=5)
    assert (body, name) == (5, "n")
    assert args == ["context", "full_event", "input_path", "name", "result_path"]


def test_a_class_without_do_names_the_fix():
    class Nothing:
        pass

    fn = nuserve.new_function("t")
    with pytest.raises(ConfigError, match="Nothing is not a flow step: pass a class with do"):
        fn.set_topology("flow").to(Nothing)


def test_a_missing_class_name_lists_every_place_looked():
    fn = nuserve.new_function("t")
    fn.set_topology("flow").to("NoSuchStep", name="x")
    with pytest.raises(ConfigError, match="class 'NoSuchStep' not found; looked in: ") as info:
        mock(fn)
    assert "the namespace argument" in str(info.value) and "nuserve built-ins" in str(info.value)


def test_handlers_declaring_context_get_the_graph_context():
    fn = nuserve.new_function("ctx-fn")
    fn.set_topology("flow", engine="sync").to(name="s", handler=with_context)
    assert mock(fn).test(body=1) == [1, "ctx-fn"]


def test_do_event_and_full_event_get_the_event():
    fn = nuserve.new_function("t")
    fn.set_topology("flow", engine="sync").to(WholeEvent, name="w")
    assert mock(fn).test("/some/path", body={"a": 1}) == {"path": "/some/path", "body": {"a": 1}}


def test_a_step_error_handler_gets_the_full_event_and_answers():
    for engine in ("sync", "async"):
        fn = nuserve.new_function("t")
        graph = fn.set_topology("flow", engine=engine)
        graph.to(Chain, name="s1").to(Raiser, name="boom").error_handler(
            name="catch", class_name=Catch, full_event=True
        ).to(Chain, name="s3")
        answer = mock(fn).test(body=[])
        assert answer == {"error": "ValueError: bad ['s1']", "origin": "boom", "input": ["s1"]}


def test_the_flow_engine_defaults_to_async_as_in_mlrun():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow")
    assert graph.spec.engine == "async"
    graph.to(name="d", handler=double)
    assert mock(fn).test(body=4) == 8
    fn.set_topology("flow", exist_ok=True, engine="sync")
    assert fn.spec.graph.engine == "sync"


def test_after_step_runs_a_step_once_per_input_without_joining():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow")
    dbl = graph.to(name="double", handler=double)
    dbl.to(Adder, name="add3", add=3)
    dbl.to(Adder, name="add2", add=2)
    graph.add_step(Gather).after_step("add2", "add3")
    server = mock(fn)
    for data in (5, 10):
        server.test(body=data)
    server.wait_for_completion()
    assert sorted(server.context.got) == [12, 13, 22, 23]


def test_a_sync_flow_refuses_a_step_with_two_inputs():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(Adder, name="a").to(Adder, name="b")
    graph.to(Adder, name="c")
    graph.add_step(Gather).after_step("b", "c")
    with pytest.raises(ConfigError, match="has 2 inputs"):
        mock(fn)


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_merge_objects_join_branches_into_a_list_checking_the_key(engine):
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow", engine=engine)
    graph.to(Adder, name="a1", add=1, input_path="x", result_path="x")
    graph.to(Adder, name="a2", add=2, input_path="x", result_path="x")
    graph.add_step(Merge(name="m", key_path="event['key']"), after=["a1", "a2"]).respond()
    server = mock(fn)
    assert [item["x"] for item in server.test(body={"x": 1, "key": 7})] == [2, 3]
    with pytest.raises(RuntimeError, match="KeyError"):
        server.test(body={"x": 1})


def test_step_objects_are_rebuilt_from_their_class_and_arguments():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow")
    graph.to(Model(name="m1", model_path=".", multiplier=2), input_path="req", result_path="m1").to(
        Model(name="m2", model_path=".", multiplier=3, input_path="req", result_path="m2")
    ).respond()
    answer = mock(fn).test(body={"req": {"inputs": [5]}})
    assert list(answer) == ["req", "m1", "m2"]
    assert (answer["m1"]["outputs"], answer["m2"]["outputs"]) == (10, 15)
    assert graph["m1"].class_args == {"model_path": ".", "multiplier": 2}


def test_a_model_as_a_flow_step_answers_metadata_readiness_and_inference():
    fn = nuserve.new_function("t")
    fn.set_topology("flow", engine="sync").to(Model, "my", model_path=".", multiplier=10)
    server = mock(fn)
    assert server.test("/", method="GET")["name"] == "my"
    assert server.test("/ready", method="GET").status_code == 200
    assert server.test("/", '{"inputs": [5]}')["outputs"] == 50


def test_a_step_after_a_queue_without_stream_must_name_its_function():
    fn = nuserve.new_function("t")
    queue = fn.set_topology("flow").to(Chain, name="s1").to("$queue", "q1", path="")
    with pytest.raises(MLRunInvalidArgumentError, match="'s2' must specify a function"):
        queue.to(Chain, name="s2")


def test_the_mock_server_runs_every_function_or_the_one_named():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow")
    graph.to(Chain, name="s1").to("$queue", "q1", path="").to(
        Chain, name="s2", function="child"
    ).to(Chain, name="s3").respond()
    assert mock(fn).test(body=[]) == ["s1", "s2", "s3"]
    assert mock(fn, current_function="child").test(body=[]) == ["s2", "s3"]


def test_set_flow_refuses_to_overwrite_unless_forced():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(name="s1", handler="(event + 1)")
    with pytest.raises(MLRunInvalidArgumentError, match="set force=True"):
        graph.set_flow([dict(name="r1", handler="(event + 10)")])
    graph.set_flow([dict(name="r1", handler="(event + 10)"), dict(name="r2", handler="json.dumps")],
                   force=True)  # fmt: skip
    assert mock(fn).test(body=5) == "15"


def test_router_steps_list_their_routes_and_the_graph_writes_yaml():
    fn = nuserve.new_function("t", project="proj")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(Echo, "e1").to("*", "r1").to(Echo, "e2")
    fn.add_model("m1", class_name=Model, model_path=".")
    assert "m1" in graph["r1"].routes
    assert "name: e1" in graph.to_yaml()
    assert mock(fn).context.project == "proj"


def test_mlrun_class_paths_name_nuserve_classes():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow", engine="sync")
    graph.to("*mlrun.serving.routers.VotingEnsemble", name="r", vote_type="regression")
    fn.add_model("a", class_name=Model, model_path=".", multiplier=1)
    fn.add_model("b", class_name=Model, model_path=".", multiplier=3)
    assert mock(fn).test("/v2/models/infer", {"inputs": [4]})["outputs"] == 8


def test_plot_writes_png_into_new_folders(tmp_path):
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow")
    graph.to(Echo, "a").to(Echo, "b")
    path = graph.plot(tmp_path / "deep" / "x.png")
    assert path.read_bytes()[:4] == b"\x89PNG" and os.path.getsize(path) > 100


def test_the_function_plots_its_flow(tmp_path):
    fn = nuserve.new_function("t")
    fn.set_topology("flow").to(Echo, "a").to(Echo, "b")
    assert "<svg" in fn.plot()
    assert fn.plot(tmp_path / "f.svg").read_text().count("<g id=") >= 2


def test_the_graph_error_handler_with_full_event_answers_for_any_step():
    fn = nuserve.new_function("t")
    graph = fn.set_topology("flow", engine="sync")
    graph.to(Chain, name="s1").to(Raiser, name="boom")
    graph.error_handler(name="catch", class_name=Catch, full_event=True)
    assert mock(fn).test(body=[])["origin"] == "boom"
    again = nuserve.graph.FlowSpec.from_dict(graph.spec.to_dict())
    assert again.default_error_step == "catch" and list(again.error_steps) == ["catch"]
    with pytest.raises(ConfigError, match="before='s1'.* not supported"):
        graph.error_handler(name="c2", class_name=Catch, full_event=True, before="s1")
