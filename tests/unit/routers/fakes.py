"""Fake models shared by the router tests: constant answers, sleeps, async twins, failures."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nuserve


class Const(nuserve.V2ModelServer):
    """Answers ``value`` (a class arg) per input row, after sleeping ``sleep`` seconds."""

    def load(self) -> None:
        self.model = "const"

    def predict(self, request: dict[str, Any]) -> Any:
        time.sleep(self.get_param("sleep", 0))
        value = self.get_param("value")
        if isinstance(value, list):  # one value per row
            return value[: len(request["inputs"])]
        return [value] * len(request["inputs"])


class AsyncConst(nuserve.V2ModelServer):
    """``Const`` with an async predict (``asyncio.sleep``)."""

    def load(self) -> None:
        self.model = "const"

    async def predict(self, request: dict[str, Any]) -> Any:
        await asyncio.sleep(self.get_param("sleep", 0))
        value = self.get_param("value")
        if isinstance(value, list):
            return value[: len(request["inputs"])]
        return [value] * len(request["inputs"])


class DictAnswer(nuserve.V2ModelServer):
    """Answers the dict given as class arg ``answer``."""

    def load(self) -> None:
        self.model = "dict"

    def predict(self, request: dict[str, Any]) -> Any:
        return dict(self.get_param("answer"))


class Failing(nuserve.V2ModelServer):
    """Its predict raises a ValueError; or a BadRequest when class arg ``bad`` is set."""

    def load(self) -> None:
        self.model = "failing"

    def predict(self, request: dict[str, Any]) -> Any:
        if self.get_param("bad", False):
            raise nuserve.BadRequest(f"model '{self.name}' wants positive inputs")
        raise ValueError("boom")


def router_fn(router: Any, models: dict[str, tuple[type, dict[str, Any]]], **router_args: Any):
    """A function whose router is ``router`` over ``models`` (key → (class, class args))."""
    fn = nuserve.new_function("routers")
    fn.set_topology("router", class_name=router, **router_args)
    for key, (cls, args) in models.items():
        fn.add_model(key, class_name=cls, **args)
    return fn
