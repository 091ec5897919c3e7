"""Steps and functions the flow tests build graphs from (importable by dotted path)."""

from __future__ import annotations

import asyncio
from typing import Any

import nuserve
from nuserve.graph import Step


class Add(Step):
    """Adds ``amount`` to ``body["x"]`` (a copy)."""

    def __init__(self, context=None, name=None, amount: int = 1, **kw: Any) -> None:
        super().__init__(context, name, **kw)
        self.amount = amount

    def do(self, body: Any) -> Any:
        return {**body, "x": body["x"] + self.amount}


class Double(Step):
    def do(self, body: Any) -> Any:
        return {**body, "x": body["x"] * 2}


class Trace(Step):
    """Appends its name to ``body["trace"]`` (a copy)."""

    def do(self, body: Any) -> Any:
        return {**body, "trace": [*body.get("trace", []), self.name]}


class Strict(Step):
    """Takes only ``level``: other class arguments are refused."""

    def __init__(self, context=None, name=None, level: int = 1) -> None:
        super().__init__(context, name)
        self.level = level


class Fail(Step):
    def do(self, body: Any) -> Any:
        raise ValueError(f"bad x {body['x']}")


class Missing(Step):
    def do(self, body: Any) -> Any:
        raise nuserve.NotFound(f"no item {body['x']}")


class Sleep(Step):
    """Sleeps ``seconds`` (async), then records its name."""

    def __init__(self, context=None, name=None, seconds: float = 0.05, **kw: Any) -> None:
        super().__init__(context, name, **kw)
        self.seconds = seconds

    async def do(self, body: Any) -> Any:
        await asyncio.sleep(self.seconds)
        return {"by": self.name}


class Catcher(Step):
    """An error handler class recording what it got."""

    seen: list[tuple[Any, BaseException]] = []

    def on_error(self, body: Any, error: Exception) -> Any:
        Catcher.seen.append((body, error))
        return nuserve.Response({"handled": type(error).__name__}, 422)


class AsyncCatcher(Step):
    async def on_error(self, body: Any, error: Exception) -> Any:
        await asyncio.sleep(0)
        return {"recovered": str(error)}


def inc(body: Any) -> Any:
    return body + 1


def square(body: Any) -> Any:
    return body * body


async def async_inc(body: Any) -> Any:
    await asyncio.sleep(0)
    return body + 1


seen_errors: list[tuple[Any, BaseException]] = []


def record_error(body: Any, error: Exception) -> Any:
    seen_errors.append((body, error))
    return None
