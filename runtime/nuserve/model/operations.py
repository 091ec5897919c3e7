"""Custom operations: the ``op_<name>(event)`` methods of models and routers.

They are collected into a registry (operation name → method name) when the class is created,
so a request never looks a method up by guessing, and called with a JSON body decoded (once:
a body the adapter decoded already is left as it is, ``nuserve.protocols.is_raw``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from nuserve.errors import NuserveError
from nuserve.event import Event
from nuserve.protocols import decode_body, is_raw

if TYPE_CHECKING:
    from nuserve.errors import ModelError


class Operable(Protocol):
    """What ``call_operation`` needs of a model (or a router seen as one)."""

    operations: ClassVar[dict[str, str]]

    def _user_error(self, stage: str, exc: Exception) -> ModelError: ...


STANDARD_OPERATIONS = ("infer", "predict", "explain")
"""The operations every model answers, before its custom ones."""


def operation_methods(cls: type) -> dict[str, str]:
    """Operation name → method name, from the ``op_<name>`` methods of ``cls``."""
    return {
        name[3:]: name
        for name in dir(cls)
        if name.startswith("op_") and len(name) > 3 and callable(getattr(cls, name))
    }


def async_operations(cls: type, operations: Mapping[str, str]) -> list[str]:
    """The operations of ``cls`` written ``async def``, sorted: a sync flow cannot await
    them, and says so when it is built (``Flow.freeze``)."""
    return sorted(
        name
        for name, method in operations.items()
        if inspect.iscoroutinefunction(getattr(cls, method, None))
    )


def operation_names(operations: Mapping[str, str]) -> list[str]:
    """The operations a model lists in its metadata: the standard ones, then its own sorted."""
    return [*STANDARD_OPERATIONS, *sorted(operations)]


def call_operation(model: Operable, event: Event, operation: str) -> Any:
    """``op_<operation>(event)`` of ``model`` (maybe awaitable), with a JSON body decoded.

    An exception other than a ``NuserveError`` becomes a ``ModelError`` naming the method.
    """
    ctype = event.content_type
    if is_raw(event.body, ctype) and (not ctype or "json" in ctype):
        event.body = decode_body(event.body, need_dict=False)
    try:
        return getattr(model, model.operations[operation])(event)
    except NuserveError:
        raise
    except Exception as exc:
        raise model._user_error(f"op_{operation}", exc) from exc
