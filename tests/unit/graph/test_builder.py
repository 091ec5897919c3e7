"""FlowBuilder: placing steps, kinds from the first argument, functions, and its refusals."""

from __future__ import annotations

import pytest

from nuserve import ConfigError, ModelRouter
from nuserve.graph import FlowBuilder, Step
from tests.unit.graph.flow_steps import Add, Double, Strict, Trace, inc
from tests.unit.graph.harness import build, run


def shape(graph):
    return {s.name: (s.kind, s.after, s.function) for s in graph.spec}


def test_to_chains_and_add_step_follows_the_last_step():
    graph = FlowBuilder()
    graph.to(Add).to(Double)
    graph.add_step(Trace, name="t")
    graph.add_step("pkg.mod.Thing")
    assert shape(graph) == {
        "Add": ("task", [], None),
        "Double": ("task", ["Add"], None),
        "t": ("task", ["Double"], None),
        "Thing": ("task", ["t"], None),
    }


def test_before_inserts_a_step():
    graph = FlowBuilder()
    graph.to(Add).to(Double)
    graph.add_step(Trace, name="t", before="Double")
    assert shape(graph)["t"] == ("task", ["Add"], None)
    assert shape(graph)["Double"] == ("task", ["t"], None)
    assert run(build(graph), {"x": 1}).body == {"x": 4, "trace": ["t"]}


def test_before_with_after_inserts_on_that_edge():
    graph = FlowBuilder()
    graph.to(Add, name="a")
    graph.to(Double, name="b")
    graph.add_step("$merge", name="m", after=["a", "b"])
    graph.add_step(Trace, name="t", after="b", before="m")
    assert graph.spec.steps["m"].after == ["a", "t"]
    with pytest.raises(ConfigError, match=r"before='t' but 't' does not come after \['a'\]"):
        graph.add_step(Trace, name="t2", after="a", before="t")


def test_kinds_from_the_first_argument():
    graph = FlowBuilder()
    graph.to("*", name="r1")
    graph.to("*nuserve.ModelRouter", name="r2")
    graph.to(ModelRouter, name="r3", some_arg=1)
    graph.to(">>", "q", path="memory://k")
    graph.add_step("$merge", after=["r1", "r2"])
    kinds = {s.name: s.kind for s in graph.spec}
    assert kinds == {"r1": "router", "r2": "router", "r3": "router", "q": "queue", "merge": "merge"}
    assert graph.spec.steps["r2"].router.class_name == "nuserve.ModelRouter"
    assert graph.spec.steps["r3"].router.class_args == {"some_arg": 1}
    assert graph.spec.steps["q"].path == "memory://k"


def test_functions_are_inherited_after_a_queue():
    graph = FlowBuilder()
    graph.to(Add).to(">>", "q", path="memory://f").to(Double, function="child").to(Trace)
    graph["q"].to(inc, name="local")
    assert shape(graph) == {
        "Add": ("task", [], None),
        "q": ("queue", ["Add"], None),
        "Double": ("task", ["q"], "child"),
        "Trace": ("task", ["Double"], "child"),
        "local": ("task", ["q"], None),
    }


class NotAStep:
    pass


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda g: g.to(Add).to(Double, function="other"),
            "step 'Double' \\(function 'other'\\) comes after 'Add' \\(function None\\); another "
            "function's steps must follow a queue",
        ),
        (lambda g: g.to(Add, function="other"), "runs in function 'other' but nothing feeds it"),
        (lambda g: g.to(Add).to(Add), "the flow already has a step 'Add'; pass another name="),
        (lambda g: g.to(">>", path="memory://x"), "a queue step needs a name"),
        (lambda g: g.to(NotAStep), "NotAStep is not a flow step"),
        (lambda g: g.to(Add()), "is an object; pass its class and arguments"),
        (lambda g: g.to(Add, handler=inc), "a step is a class .* or a function .*, not both"),
        (
            lambda g: g.to(inc, handler=inc),
            "pass the function as the first argument or as handler=",
        ),
        (lambda g: g.to(), "add_step needs a class, a function"),
        (lambda g: g.add_step(Add, after="nope"), "step 'Add': no step 'nope' to come after"),
        (lambda g: g.add_step("$merge", after=["a"], result_path="r"), "takes no input_path"),
        (lambda g: g.to(Add).respond() and g.to(Double).respond(), "step 'Add' already responds"),
        (lambda g: g.error_handler("*"), "the error handler must be a Step class or a function"),
    ],
)
def test_refusals_name_the_fix(call, message):
    with pytest.raises(ConfigError, match=message):
        call(FlowBuilder())


@pytest.mark.parametrize(
    ("build_graph", "message"),
    [
        (
            lambda g: g.to(Add).to(Double) and g.add_step(Trace, after=["Add", "Double"]),
            "step 'Trace' has 2 inputs \\(Add, Double\\); join them with a merge step first",
        ),
        (
            lambda g: g.to(handler="no_such_function"),
            "handler 'no_such_function' not found; looked in: flow_steps",
        ),
        (lambda g: g.to("NoSuchClass"), "class 'NoSuchClass' not found"),
        (lambda g: g.to(inc, amount=1), "is a function and takes no class arguments"),
        (
            lambda g: g.to(Strict, nonsense=1, level=1),
            "step class Strict cannot be built with context=, name= and \\['level', 'nonsense'\\]",
        ),
        (lambda g: g.to(">>", "q", path="ftp://x"), "queue step 'q' path 'ftp://x' has unknown scheme 'ftp'"),
        (
            lambda g: (
                g.to(Add).respond()
                and g.spec.steps.__setitem__(
                    "Add2", type(g.spec.steps["Add"])("Add2", class_name=Add, responder=True)
                )
            ),
            "a flow has one responder \\(got 'Add', 'Add2'\\)",
        ),
    ],
)
def test_build_refusals(build_graph, message):
    graph = FlowBuilder()
    build_graph(graph)
    with pytest.raises(ConfigError, match=message):
        build(graph)


def test_steps_of_another_function_are_not_run_here():
    graph = FlowBuilder()
    seen = []
    graph.to(Add).to(">>", "q", path="memory://not-here").to(
        handler=seen.append, name="remote", function="child"
    )
    assert run(build(graph), {"x": 1}).body == {"x": 2}
    assert seen == []


def test_step_base_defaults():
    step = Step(name="s")
    assert step.do({"a": 1}) == {"a": 1}
    assert step.on_error({}, ValueError()) is None
    assert repr(step) == "Step(name='s')" and Step.async_methods == frozenset()
    assert repr(FlowBuilder()) == "FlowBuilder(engine='sync', steps=[])"
    with pytest.raises(KeyError, match="no step 'x' \\(steps: none\\)"):
        FlowBuilder()["x"]
