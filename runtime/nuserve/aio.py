"""Small helpers for code that may be sync or async (user hooks may be either)."""

from __future__ import annotations

import asyncio
import inspect
import threading
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


def caller_runs_a_loop() -> bool:
    """Whether this thread is inside a running event loop (sync code called from a coroutine)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion from sync code, in a thread when this one runs a loop."""
    if not caller_runs_a_loop():
        return asyncio.run(awaited(awaitable))
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(awaited(awaitable)))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="nuserve-run-sync")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
