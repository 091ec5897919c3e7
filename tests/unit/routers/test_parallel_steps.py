"""ParallelRun with plain step children (MLRun): modes, extend_event, a real process pool."""

from __future__ import annotations

import os

import pytest

import nuserve
from nuserve import ConfigError
from nuserve.serving.routers import ParallelRun, ParallelRunnerModes


class Data:
    def __init__(self, context, name=None, data=None):
        self.data = data or {}

    def do(self, x):
        return dict(self.data)


class Pid:
    def do(self, x):
        return {"pid": os.getpid()}


def double_x(event):
    return {"mul": event["x"] * 2}


@pytest.mark.parametrize("mode", ParallelRunnerModes.all())
def test_children_answers_are_merged_onto_the_event(mode):
    fn = nuserve.new_function("p")
    graph = fn.set_topology("router", ParallelRun(extend_event=True, executor_type=mode))
    graph.add_route("c1", class_name=Data, data={"a": 1})
    graph.add_route("c2", class_name=Data, data={"b": 2})
    graph.add_route("c3", handler=double_x)
    server = fn.to_mock_server()
    assert server.test(body={"x": 8}) == {"x": 8, "a": 1, "b": 2, "mul": 16}
    assert server.test("", {"x": 9}) == {"x": 9, "a": 1, "b": 2, "mul": 18}
    server.close()


def test_without_extend_event_the_answer_holds_only_the_children():
    fn = nuserve.new_function("p")
    graph = fn.set_topology("router", ParallelRun(executor_type="array"))
    graph.add_route("c1", class_name=Data, data={"a": 1})
    assert fn.to_mock_server().test(body={"x": 1}) == {"a": 1}


def test_process_mode_runs_children_in_other_processes():
    fn = nuserve.new_function("p")
    graph = fn.set_topology("router", ParallelRun(executor_type="process"))
    graph.add_route("c1", class_name=Pid)
    server = fn.to_mock_server()
    assert server.test(body={})["pid"] != os.getpid()
    server.close()


def test_modes_are_checked():
    assert ParallelRunnerModes.all() == ["array", "thread", "process"]
    with pytest.raises(ConfigError, match="executor_type must be one of array, thread, process"):
        ParallelRun(executor_type="gpu")


def test_the_router_object_keeps_its_arguments_editable():
    fn = nuserve.new_function("p")
    fn.set_topology("router", nuserve.VotingEnsemble(vote_type="regression", weights={"a": 1}))
    assert fn.spec.graph.class_args == {"vote_type": "regression", "weights": {"a": 1}}
