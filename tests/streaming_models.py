"""Models whose ``predict`` is a generator (sync or async), for the streaming tests.

``Tokens`` yields the words of its input one by one and notes in ``CLOSED`` (and in the file
``$NUSERVE_TEST_CLOSED``, for server workers) when its generator was closed, finished or not.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import nuserve

CLOSED: list[str] = []


def _closed(note: str) -> None:
    CLOSED.append(note)
    path = os.environ.get("NUSERVE_TEST_CLOSED")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(note + "\n")


class Tokens(nuserve.V2ModelServer):
    """A sync generator: one word per chunk, ``delay`` seconds apart."""

    def load(self) -> None:
        self.model = "tokens"

    def predict(self, request: dict[str, Any]) -> Any:
        delay = float(request.get("delay", 0))
        try:
            for word in str(request["inputs"][0]).split():
                if delay:
                    time.sleep(delay)
                yield word + " "
        finally:
            _closed("sync")


class AsyncRows(nuserve.V2ModelServer):
    """An async generator: one row (a list) per chunk, or one dict with ``as_dicts``."""

    def load(self) -> None:
        self.model = "rows"

    async def predict(self, request: dict[str, Any]) -> Any:
        delay = float(request.get("delay", 0))
        try:
            for row in request["inputs"]:
                await asyncio.sleep(delay)
                yield {"row": row} if request.get("as_dicts") else [row]
        finally:
            _closed("async")


class FailsFirst(nuserve.V2ModelServer):
    def load(self) -> None:
        self.model = "fails"

    def predict(self, request: dict[str, Any]) -> Any:
        if request["inputs"]:
            raise ValueError("no chunk at all")
        yield "never"
