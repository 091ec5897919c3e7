"""Step: the base class of class steps, and how function steps are found.

A class step overrides ``do(body) -> body``; an error handler class overrides
``on_error(body, error) -> answer``. Either may be ``async def``: which ones are is recorded
once when the subclass is created (``async_methods``), so the engines never inspect
signatures per event. A function step is any function ``f(body) -> body`` (an error handler
function is ``f(body, error)``), named by object, dotted path or bare name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from nuserve.context import ServingContext
from nuserve.errors import ConfigError
from nuserve.resolve import resolve_object


class Step:
    """Base of class steps: override ``do`` (and ``on_error`` for an error handler).

    The flow builds each step once per worker with ``cls(context=..., name=..., **class_args)``;
    a subclass with its own ``__init__`` takes those and passes ``context`` and ``name`` on.
    """

    async_methods: ClassVar[frozenset[str]] = frozenset()
    """Which of ``do`` and ``on_error`` this class implements with ``async def``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.async_methods = frozenset(
            m for m in ("do", "on_error") if inspect.iscoroutinefunction(getattr(cls, m))
        )

    def __init__(
        self, context: ServingContext | None = None, name: str | None = None, **class_args: Any
    ) -> None:
        self.context = context or ServingContext()
        self.name = name or type(self).__name__
        self.class_args = class_args

    def do(self, body: Any) -> Any:
        """The step's work: the body in, the next body out (the default passes it on)."""
        return body

    def on_error(self, body: Any, error: Exception) -> Any:
        """As an error handler: the answer for ``body`` whose step raised ``error``.

        Return ``None`` to keep the default error answer, a value to answer it with status
        200, or a ``Response``; raising replaces the error.
        """
        return None

    def close(self) -> None:
        """Release what the step holds (called when the server closes)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def resolve_handler(
    name: str | Callable[..., Any], namespaces: list[tuple[str, Mapping[str, Any]]]
) -> Callable[..., Any]:
    """Find a function: an object as is, a dotted path imported, a bare name in ``namespaces``.

    The same order as classes (``nuserve.resolve``): a name that cannot be found is an error
    that lists where it looked.
    """
    if not isinstance(name, str):
        return _as_function(getattr(name, "__name__", repr(name)), name)
    found = resolve_object(
        name, namespaces, what="handler", noun="function", example="pkg.module.function"
    )
    return _as_function(*found)


def _as_function(name: str, value: Any) -> Callable[..., Any]:
    if isinstance(value, type) or not callable(value):
        raise ConfigError(
            f"handler {name!r} is a {type(value).__name__}, not a function; pass classes as "
            "class_name (a Step subclass)"
        )
    return value  # type: ignore[no-any-return]


def is_async_function(func: Callable[..., Any]) -> bool:
    """Whether calling ``func`` returns a coroutine (asked once, when the flow is built)."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - an object with an async __call__
    )
