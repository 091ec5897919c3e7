"""RouterEndpoint: a router seen as a model, answering ``/v2/models/<router>/...``.

The router registers it under its own name, so the path table, readiness, metadata,
``/v1`` paths and ``op_<name>`` operations of models all work for routers unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar
from typing import Protocol as Interface

from nuserve.context import ServingContext
from nuserve.event import Event, Response
from nuserve.model.operations import call_operation
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import Protocol


class Combining(Interface):
    """What an endpoint needs of its router (``BaseRouter`` is one)."""

    context: ServingContext
    name: str
    operations: ClassVar[dict[str, str]]

    def models(self) -> Iterator[V2ModelServer]: ...

    def infer(self, event: Event, operation: str, protocol: Protocol | None = None) -> Response: ...

    async def infer_async(
        self, event: Event, operation: str, protocol: Protocol | None = None
    ) -> Response: ...

    def metadata(self) -> dict[str, Any]: ...


class RouterEndpoint(V2ModelServer):
    """The router seen as a model: what ``/v2/models/<router>/...`` reaches.

    Async when any child is, so the server awaits the fan-out rather than block on it.
    """

    def __init__(self, router: Combining) -> None:
        super().__init__(context=router.context, name=router.name)
        self.router = router
        self.ready = True
        self.is_async = any(model.is_async for model in router.models())

    def infer(self, event: Event, operation: str, protocol: Protocol | None = None) -> Response:
        return self.router.infer(event, operation, protocol)

    async def infer_async(
        self, event: Event, operation: str, protocol: Protocol | None = None
    ) -> Response:
        return await self.router.infer_async(event, operation, protocol)

    def metadata(self) -> dict[str, Any]:
        return self.router.metadata()

    def check_ready(self) -> None:
        for model in self.router.models():
            model.check_ready()

    def run_operation(self, event: Event, operation: str) -> Any:
        """``op_<operation>`` of the router; needs no child to be ready."""
        return call_operation(self, event, operation)


def delegate(method: str) -> Callable[[RouterEndpoint, Event], Any]:
    """An endpoint method that calls the router's ``method`` (an ``op_<name>``)."""

    def operation(self: RouterEndpoint, event: Event) -> Any:
        return getattr(self.router, method)(event)

    operation.__name__ = method
    return operation
