"""Request tracking to streams (placeholder contract; the implementation lands next)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nuserve.context import ServingContext
    from nuserve.event import Event, Response
    from nuserve.model import V2ModelServer
    from nuserve.protocols import Protocol as BodyProtocol


class Tracker(Protocol):
    """Wraps a model's inference to record it; never blocks or fails the request."""

    def run(
        self, model: V2ModelServer, event: Event, operation: str, protocol: BodyProtocol | None
    ) -> Response | Awaitable[Response]: ...

    def start(self) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...

    def stats(self) -> dict[str, int]: ...


def create_tracker(settings: dict[str, Any], context: ServingContext) -> Tracker:
    raise NotImplementedError("tracking is not implemented yet")
