"""Fake models shared by the tests (one place, as MLServer keeps SumModel and ErrorModel)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np

import nuserve


class Echo(nuserve.V2ModelServer):
    """Answers its inputs unchanged."""

    def load(self) -> None:
        self.model = "echo"

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


class AsyncEcho(nuserve.V2ModelServer):
    """Echo with every hook async."""

    async def load(self) -> None:
        await asyncio.sleep(0)
        self.model = "echo"

    async def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        request["pre"] = True
        return request

    async def predict(self, request: dict[str, Any]) -> Any:
        await asyncio.sleep(0)
        return {"inputs": request["inputs"], "pre": request["pre"]}


class Summer(nuserve.V2ModelServer):
    """Sums each row; explain says which feature weighed most; has custom operations."""

    def load(self) -> None:
        self.model = sum

    def predict(self, request: dict[str, Any]) -> Any:
        return np.asarray(request["inputs"]).sum(axis=-1).tolist()

    def explain(self, request: dict[str, Any]) -> Any:
        return np.asarray(request["inputs"]).argmax(axis=-1).tolist()

    def postprocess(self, response: dict[str, Any]) -> dict[str, Any]:
        response["rows"] = len(response["outputs"])
        return response

    def op_describe(self, event: nuserve.Event) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "got": event.body}

    async def op_ping(self, event: nuserve.Event) -> str:
        return "pong"


class Raising(nuserve.V2ModelServer):
    """Its predict raises a ValueError naming the input."""

    def load(self) -> None:
        self.model = None

    def predict(self, request: dict[str, Any]) -> Any:
        raise ValueError(f"cannot handle {request['inputs']!r}")


class Gated(nuserve.V2ModelServer):
    """Loads only when ``release`` is set (for async load tests)."""

    release = threading.Event()

    def load(self) -> None:
        if not self.release.wait(10):
            raise TimeoutError("gate never opened")
        self.model = "gated"

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]


class BrokenLoad(nuserve.V2ModelServer):
    """Its load always fails."""

    def load(self) -> None:
        raise FileNotFoundError("weights.bin is missing")


class Params(nuserve.V2ModelServer):
    """Answers with the values ``get_param`` finds."""

    def load(self) -> None:
        self.model = "params"

    def predict(self, request: dict[str, Any]) -> Any:
        return [self.get_param(k, "missing") for k in request["inputs"]]


async def async_double(body: Any) -> Any:
    """An async flow step: each input doubled."""
    await asyncio.sleep(0)
    return {"doubled": [x * 2 for x in body["inputs"]]}
