"""Handler and remote-step expressions: a restricted evaluator over the AST, never eval."""

from __future__ import annotations

import pytest

import nuserve
from nuserve.errors import BadRequest, ConfigError
from nuserve.graph.expression import Expression, is_expression


@pytest.mark.parametrize(
    ("text", "event", "expected"),
    [
        ("(event + 1)", 5, 6),
        ("event['a'] * 2 - 1", {"a": 4}, 7),
        ("event[1:3]", [1, 2, 3, 4], [2, 3]),
        ("len(event) > 2 and 'x' in event", ["x", "y", "z"], True),
        ("{'n': event, 'l': [event, -event]}", 3, {"n": 3, "l": [3, -3]}),
        ("str(event) if event else 'none'", 0, "none"),
        ("max(event) // 2 % 3", [9, 14], 1),
    ],
)
def test_safe_expressions_evaluate(text, event, expected):
    assert Expression(text)(event) == expected


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("(event.__class__)", "Attribute node 'event.__class__'"),
        ("(__import__('os'))", "call of '__import__'"),
        ("(open('/etc/passwd'))", "call of 'open'"),
        ("([x for x in event])", "ListComp node"),
        ("(lambda: 1)", "Lambda node"),
        ("(os)", "unknown name 'os'"),
        ("(event @ event)", "operator MatMult"),
    ],
)
def test_unsafe_expressions_fail_naming_the_node(text, node):
    with pytest.raises(ConfigError, match="is not a safe expression") as info:
        Expression(text, where="step 's1' handler")
    assert node in str(info.value) and "step 's1' handler" in str(info.value)


def test_a_handler_expression_fails_when_the_graph_is_built_not_per_event():
    fn = nuserve.new_function("x")
    graph = fn.set_topology("flow", engine="sync")
    with pytest.raises(ConfigError, match=r"step 'bad' handler .* Attribute node"):
        graph.to(name="bad", handler="(event.__dict__)")


def test_handler_expressions_run_in_both_engines():
    for engine in ("sync", "async"):
        fn = nuserve.new_function("x")
        fn.set_topology("flow", engine=engine).to(name="s1", handler="(event * 3)").to(
            name="s2", handler="json.dumps"
        )
        assert fn.to_mock_server().test(body=4) == "12"


def test_a_failing_expression_is_a_400_naming_it():
    with pytest.raises(BadRequest, match=r"expression \"event\['k'\]\" failed: KeyError"):
        Expression("event['k']")({})


def test_huge_powers_are_refused():
    with pytest.raises(BadRequest, match="exponent"):
        Expression("event ** 100000")(9)


def test_only_parenthesised_text_is_an_expression():
    assert is_expression("(event)") and not is_expression("json.dumps")
