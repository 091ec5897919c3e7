"""Small helpers for code that may be sync or async (user hooks may be either)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def maybe_await(value: Any) -> Any:
    """``await value`` when it is awaitable, else ``value``."""
    if inspect.isawaitable(value):
        return await value
    return value


async def awaited(awaitable: Awaitable[T]) -> T:
    """A coroutine around any awaitable (``asyncio.run`` wants a coroutine)."""
    return await awaitable
