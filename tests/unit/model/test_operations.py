"""Custom operations: the registry built from ``op_<name>`` methods and how one is called."""

from __future__ import annotations

import pytest

from nuserve.errors import BadRequest, ModelError
from nuserve.event import Event
from nuserve.model.operations import call_operation, operation_methods, operation_names
from nuserve.model.v2_model_server import V2ModelServer


class WithOps(V2ModelServer):
    op_echo_value = None  # not callable: not an operation

    def op_echo(self, event: Event) -> object:
        return event.body

    def op_fail(self, event: Event) -> object:
        raise ValueError("boom")

    def op_refuse(self, event: Event) -> object:
        raise BadRequest("no")

    def op_(self, event: Event) -> object:  # no name: not an operation
        return None


def test_registry_holds_named_callable_op_methods():
    assert operation_methods(WithOps) == {
        "echo": "op_echo",
        "fail": "op_fail",
        "refuse": "op_refuse",
    }
    assert WithOps.operations == operation_methods(WithOps)
    assert operation_names(WithOps.operations) == [
        *("infer", "predict", "explain"),
        *("echo", "fail", "refuse"),
    ]


def test_call_decodes_a_json_body_and_wraps_user_errors():
    model = WithOps(name="m")
    assert call_operation(model, Event(b'{"a": 1}'), "echo") == {"a": 1}
    assert call_operation(model, Event(b"[1, 2]"), "echo") == [1, 2]
    with pytest.raises(ModelError, match=r"model 'm' raised in op_fail: ValueError: boom"):
        call_operation(model, Event(b"{}"), "fail")
    with pytest.raises(BadRequest, match="no"):
        call_operation(model, Event(b"{}"), "refuse")


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("abc", "application/json", "abc"),  # Nuclio decoded the JSON string "abc" already
        ("[1, 2]", "application/json", "[1, 2]"),  # a JSON string that looks like JSON
        ('"abc"', None, "abc"),  # raw text, decoded here
        ('"abc"', "application/json; charset=utf-8", "abc"),  # Nuclio decodes only the exact type
        (b'"abc"', "application/json", "abc"),  # bytes are raw, whatever their type
        ("abc", "text/plain", "abc"),  # not JSON: left alone
        (3, "application/json", 3),
    ],
)
def test_each_body_is_decoded_once(body: object, content_type: str | None, expected: object):
    """Found by fuzzing: a JSON-string body was decoded by Nuclio, then again here (a 400)."""
    event = Event(body, content_type=content_type)
    assert call_operation(WithOps(name="m"), event, "echo") == expected
