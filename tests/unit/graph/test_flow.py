"""Flows on both engines: chains, branches and merges, responders, paths, errors, routers."""

from __future__ import annotations

import pytest

import nuserve
from nuserve import BaseRouter, ConfigError, Response
from nuserve.graph import FlowBuilder
from tests.models import AsyncEcho, Echo, Summer
from tests.unit.graph import flow_steps
from tests.unit.graph.flow_steps import Add, Catcher, Double, Fail, Missing, Trace, inc, square
from tests.unit.graph.harness import build, run

ENGINES = ["sync", "async"]


@pytest.fixture(params=ENGINES)
def graph(request):
    return FlowBuilder(engine=request.param)


def test_chain(graph):
    graph.to(Add, amount=2).to(Double).to("Add", name="plus10", amount=10)
    response = run(build(graph), {"x": 1})
    assert type(response) is Response
    assert (response.status_code, response.body) == (200, {"x": 16})


def test_function_handlers_by_object_dotted_path_and_bare_name(graph):
    graph.to(inc).to(handler="tests.unit.graph.flow_steps.square").to(handler="inc", name="again")
    assert run(build(graph), 2).body == 10


def test_branch_and_merge(graph):
    start = graph.to(Trace, name="start")
    start.to(Add, name="left", amount=1)
    start.to(Double, name="right")
    graph.add_step("$merge", name="join", after=["left", "right"]).to(
        handler=lambda b: b, name="out"
    )
    body = run(build(graph), {"x": 5}).body
    assert body == {
        "left": {"x": 6, "trace": ["start"]},
        "right": {"x": 10, "trace": ["start"]},
    }
    assert list(body) == ["left", "right"]


def test_two_branches_from_the_event_and_the_last_step_answers(graph):
    graph.to(Add, name="a")
    graph.to(Double, name="b")
    assert run(build(graph), {"x": 3}).body == {"x": 6}


def test_responder_in_the_middle_answers_while_the_flow_goes_on(graph):
    seen = []
    graph.to(Add, name="first").respond().to(Double).to(handler=seen.append, name="sink")
    response = run(build(graph), {"x": 1})
    assert response.body == {"x": 2}
    assert seen == [{"x": 4}]


def test_stream_event_without_responder_gets_its_id(graph):
    graph.to(Add)
    flow = build(graph)
    assert run(flow, {"x": 1}, trigger="kafka", id="ev-1").body == {"id": "ev-1"}
    assert run(flow, {"x": 1}, trigger="http").body == {"x": 2}


def test_stream_event_with_responder_gets_the_answer(graph):
    graph.to(Add).respond()
    assert run(build(graph), {"x": 1}, trigger="kafka").body == {"x": 2}


def test_input_and_result_paths(graph):
    graph.to(inc, input_path="a.n", result_path="out.n").to(
        square, input_path="a.n", result_path="sq"
    )
    body = {"a": {"n": 3}, "keep": True}
    response = run(build(graph), body)
    assert response.body == {"a": {"n": 3}, "keep": True, "out": {"n": 4}, "sq": 9}
    assert body == {"a": {"n": 3}, "keep": True}, "the event body is not changed in place"


def test_input_path_indexes_lists(graph):
    graph.to(inc, input_path="outputs.1")
    assert run(build(graph), {"outputs": [1, 5]}).body == 6
    assert run(build(graph), {"outputs": [1]}).body["error"] == (
        "step 'inc' raised BadRequest: input_path 'outputs.1': outputs has no key '1' "
        "(got a list of 1)"
    )


def test_missing_input_path_is_a_400_naming_the_step(graph):
    graph.to(inc, input_path="a.n")
    response = run(build(graph), {"a": {}})
    assert response.status_code == 400
    assert response.body["error"] == (
        "step 'inc' raised BadRequest: input_path 'a.n': a has no key 'n' (got [])"
    )


def test_step_error_answers_500_naming_the_step(graph):
    graph.to(Add).to(Fail, name="boom").to(Double)
    response = run(build(graph), {"x": 1}, id="e1")
    assert response.status_code == 500
    assert response.body == {"error": "step 'boom' raised ValueError: bad x 2", "id": "e1"}


def test_nuserve_errors_keep_their_status(graph):
    graph.to(Missing)
    response = run(build(graph), {"x": 7})
    assert response.status_code == 404
    assert response.body["error"] == "step 'Missing' raised NotFound: no item 7"


def test_error_handler_class_gets_the_input_and_the_original_error(graph):
    Catcher.seen.clear()
    graph.to(Add).to(Fail, name="boom")
    graph.error_handler(Catcher)
    response = run(build(graph), {"x": 1})
    assert (response.status_code, response.body) == (422, {"handled": "ValueError"})
    ((body, error),) = Catcher.seen
    assert body == {"x": 2}
    assert type(error) is ValueError and str(error) == "bad x 2"
    assert error.__notes__ == ["raised in flow step 'boom'"]


def test_error_handler_function_returning_none_keeps_the_error_answer(graph):
    flow_steps.seen_errors.clear()
    graph.to(Fail, name="boom")
    graph.error_handler(handler="record_error")
    response = run(build(graph), {"x": 3})
    assert response.status_code == 500
    assert response.body["error"] == "step 'boom' raised ValueError: bad x 3"
    assert [(b, str(e)) for b, e in flow_steps.seen_errors] == [({"x": 3}, "bad x 3")]


def test_error_handler_that_raises_says_both(graph):
    def handler(body, error):
        raise RuntimeError("handler down")

    graph.to(Fail, name="boom")
    graph.error_handler(handler=handler, name="h")
    response = run(build(graph, {"handler": handler}), {"x": 1})
    assert response.status_code == 500
    assert response.body["error"] == (
        "error handler 'h' raised RuntimeError: handler down "
        "(handling: step 'boom' raised ValueError: bad x 1)"
    )


def test_error_in_a_branch(graph):
    graph.to(Trace, name="a").to(Fail, name="bad")
    graph.to(Trace, name="b")
    response = run(build(graph), {"x": 1})
    assert response.body["error"] == "step 'bad' raised ValueError: bad x 1"


def test_raw_json_bodies_are_decoded_and_bad_json_is_400(graph):
    graph.to(Add)
    flow = build(graph)
    assert run(flow, b'{"x": 1}').body == {"x": 2}
    assert run(flow, b'{"x": 1}', content_type="application/json; charset=utf-8").body == {"x": 2}
    with pytest.raises(Exception, match="request body is not valid JSON") as info:
        run(flow, b"{nope", content_type="application/json")
    assert info.value.status == 400


def test_a_body_that_is_not_json_with_no_content_type_stays_as_it_came(graph):
    """MLRun's rule: only a body said to be JSON must parse."""
    graph.to(handler=lambda b: {"type": type(b).__name__}, name="look")
    assert run(build(graph), b"{nope").body == {"type": "bytes"}


def test_text_content_type_keeps_the_raw_body(graph):
    graph.to(handler=lambda b: b.upper(), name="up")
    assert run(build(graph), b"abc", content_type="text/plain").body == b"ABC"


def test_a_json_string_that_nuclio_decoded_is_not_decoded_again(graph):
    """Nuclio decodes ``application/json`` bodies: the JSON string ``"[1]"`` arrives as the
    text ``[1]``, which the flow decoded a second time, into a list."""
    graph.to(handler=lambda b: {"type": type(b).__name__, "body": b}, name="look")
    flow = build(graph)
    answer = run(flow, "[1]", content_type="application/json").body
    assert answer == {"type": "str", "body": "[1]"}
    assert run(flow, "[1]").body == {"type": "list", "body": [1]}  # raw text: decoded here


def test_router_nested_in_a_flow(graph):
    graph.to(Trace, name="pre").to("*", name="router").to(
        handler=lambda r: r["outputs"], name="post"
    )
    graph.spec.router("router").add_route("echo", Echo)
    graph["router"].add_route("twin", Echo)
    flow = build(graph)
    assert [m.name for m in flow.models()] == ["echo", "twin"]
    assert run(flow, {"inputs": [1, 2]}, path="/v2/models/twin/infer").body == [1, 2]
    assert run(flow, {"model": "echo", "inputs": [3]}).body == [3]
    missing = run(flow, {"model": "nope", "inputs": [3]})
    assert missing.status_code == 404
    assert missing.body["error"].startswith("step 'router' raised NotFound: model 'nope'")


def test_async_model_in_a_router_needs_the_async_engine():
    graph = FlowBuilder(engine="sync")
    graph.to("*", name="router").add_route("a", AsyncEcho)
    with pytest.raises(ConfigError, match="router step 'router' has model 'a' with async hooks"):
        build(graph)
    graph.spec.engine = "async"
    assert run(build(graph), {"inputs": [1]}).body["outputs"] == {"inputs": [1], "pre": True}


class PingRouter(BaseRouter):
    """A router with an async operation of its own."""

    async def op_reset(self, event):
        return "reset"


def test_an_async_operation_needs_the_async_engine():
    """Found by the flow fuzzer: a sync flow was built, then failed at the first call of the
    async ``op_ping`` (a 500), rather than at build."""
    graph = FlowBuilder(engine="sync")
    graph.to("*", name="router").add_route("s", Summer)
    with pytest.raises(
        ConfigError,
        match=r"^router step 'router' has model 's' with async operations \(op_ping\), which "
        r"the sync engine cannot await; make them plain def, or use fn.set_topology\('flow', "
        r"engine='async'\)$",
    ):
        build(graph)
    graph.spec.engine = "async"
    assert run(build(graph), {}, path="/v2/models/s/ping").body == "pong"


def test_an_async_operation_of_a_router_class_needs_the_async_engine():
    fn = nuserve.new_function("f")
    fn.set_topology("flow", engine="sync").to(PingRouter, name="r")
    fn.add_model("e", class_name=Echo, router_step="r")
    with pytest.raises(ConfigError, match=r"model 'PingRouter' with async operations \(op_reset\)"):
        fn.to_mock_server()
    fn.set_topology("flow", engine="async").to(PingRouter, name="r")
    fn.add_model("e", class_name=Echo, router_step="r")
    assert fn.to_mock_server().test("/v2/models/PingRouter/reset", {}) == "reset"


def test_async_step_needs_the_async_engine():
    graph = FlowBuilder(engine="sync")
    graph.to(flow_steps.Sleep)
    with pytest.raises(
        ConfigError, match=r"step 'Sleep' is async \(async def\); use fn.set_topology"
    ):
        build(graph)


def test_not_frozen_and_empty_flows_are_config_errors():
    from nuserve.context import ServingContext
    from nuserve.event import Event
    from nuserve.graph import Flow

    with pytest.raises(ConfigError, match="not frozen"):
        Flow([]).dispatch(Event({}))
    with pytest.raises(ConfigError, match="the flow has no steps"):
        Flow([], context=ServingContext()).freeze()
