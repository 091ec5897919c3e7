"""Hub item remote-flow: prepare the event, call a remote endpoint, shape the answer."""

from __future__ import annotations

from typing import Any


def prepare(body: Any) -> Any:
    """The request the remote endpoint gets: the body under ``data``."""
    return {"data": body}


def answer(body: Any) -> Any:
    """The remote's answer under ``result``."""
    return {"result": body}
