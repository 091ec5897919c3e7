"""Flow: a built flow graph with the surface the server uses from a router.

``freeze()`` checks the graph, orders its steps once and compiles ``dispatch`` for the engine
(``engine_sync`` or ``engine_async``); after that an event costs a walk over a precomputed
list. A step that raises goes to the error handler, if any, and the answer names the step:
``{"error": "step 'x' raised ValueError: ...", "id": ...}`` with status 500, or the status of
a nuserve error (a model's 404 inside a router step stays 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError, NuserveError
from nuserve.event import Event, Response
from nuserve.graph.node import Dispatch, Node
from nuserve.graph.order import topological_order
from nuserve.model.operations import async_operations
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.endpoint import RouterEndpoint
from nuserve.routers.router import ModelRouter, Target


class Flow:
    """Steps run by an engine; the graph root of a ``flow`` topology."""

    def __init__(
        self,
        nodes: list[Node],
        engine: str = "sync",
        context: ServingContext | None = None,
        on_error: Node | None = None,
    ) -> None:
        self.nodes = list(nodes)
        self.engine = engine
        self.context = context or ServingContext()
        self.on_error = on_error
        self.order: list[Node] = []
        """The steps in the order the sync engine runs them (set by ``freeze``)."""
        self.answer_node: Node | None = None
        """The step whose output is the answer: the responder, else the last step."""
        self.has_responder = False
        self.streaming = False
        """Set by the server from the serving spec (``fn.set_streaming``)."""
        self.dispatch: Dispatch = self._not_frozen
        self.step_handlers: dict[str, tuple[Node, bool]] = {}
        """Per-step error handlers (MLRun's ``step.error_handler``): the handler's node and
        whether it takes the whole event."""

    def _not_frozen(self, event: Event) -> Response | Awaitable[Response]:
        raise ConfigError("the flow is not frozen; call freeze() (the server's start()) first")

    # ----- building ---------------------------------------------------------------------

    def freeze(self) -> None:
        """Check the graph, order it and compile ``dispatch``; later calls do nothing."""
        if self.order:
            return
        for node in self.nodes:
            if isinstance(node.target, ModelRouter):
                node.target.freeze()
        self.order = topological_order(self.nodes, self.engine)
        responders = [n for n in self.order if n.responder]
        if len(responders) > 1:
            names = ", ".join(repr(n.name) for n in responders)
            raise ConfigError(f"a flow has one responder (got {names}); call respond() once")
        self.has_responder = bool(responders)
        leaves = {n.name for n in self.order} - {a for n in self.order for a in n.after}
        self.answer_node = responders[0] if responders else self._last_leaf(leaves)
        if self.engine == "sync":
            from nuserve.graph.engine_sync import compile_sync  # noqa: PLC0415 - engine module

            self._check_sync()
            self.dispatch = compile_sync(self)
        else:
            from nuserve.graph.engine_async import compile_async  # noqa: PLC0415

            self.dispatch = compile_async(self)

    def _last_leaf(self, leaves: set[str]) -> Node:
        return [n for n in self.order if n.name in leaves][-1]

    def _check_sync(self) -> None:
        fix = "use fn.set_topology('flow', engine='async')"
        for node in [*self.order, *([self.on_error] if self.on_error else [])]:
            if node.is_async:
                raise ConfigError(f"step {node.name!r} is async (async def); {fix}")
            if isinstance(node.target, ModelRouter):
                for model in node.target.models():
                    if model.is_async:
                        raise ConfigError(
                            f"router step {node.name!r} has model {model.name!r} with async "
                            f"hooks or batching, which the sync engine cannot await; {fix}"
                        )
                for versions in node.target.versions.values():  # the router's own, too
                    for model in versions.values():
                        _check_sync_operations(node.name, model, fix)

    def models(self) -> Iterator[V2ModelServer]:
        """The models of every router step (the server loads them)."""
        for node in self.nodes:
            if isinstance(node.target, ModelRouter):
                yield from node.target.models()
            elif isinstance(node.target, V2ModelServer):
                yield node.target

    def infer_target(self, event: Event) -> Target | None:
        """Flows are never merged into batched ``predict`` calls: every event runs the flow."""
        return None

    def close(self) -> None:
        """Close the steps and streams that hold resources (a queue's producer)."""
        for node in [*self.nodes, *([self.on_error] if self.on_error else [])]:
            close = getattr(node.target, "close", None) if node.kind != "router" else None
            if callable(close):
                close()

    # ----- errors -----------------------------------------------------------------------

    def failed(self, event: Event, step: str, body: Any, error: Exception) -> Response:
        """The answer when ``step`` raised: the error handler's, else the error's."""
        self._log(event, step, error)
        if step in self.step_handlers:
            return self._step_failed(event, step, body, error)
        handler = self.on_error
        if handler is None or handler.call is None:
            return error_response(event, step, error)
        try:
            result = handler.call(body, error)
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the answer
            return self._handler_failed(event, step, error, exc)
        return handled(event, step, error, result)

    async def failed_async(self, event: Event, step: str, body: Any, error: Exception) -> Response:
        """``failed`` for the async engine: the error handler may be ``async def``."""
        self._log(event, step, error)
        if step in self.step_handlers:
            return await self._step_failed_async(event, step, body, error)
        handler = self.on_error
        if handler is None or handler.call is None:
            return error_response(event, step, error)
        try:
            result = handler.call(body, error)
            if handler.is_async:
                result = await result
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the answer
            return self._handler_failed(event, step, error, exc)
        return handled(event, step, error, result)

    def _step_call(self, event: Event, step: str, body: Any, error: Exception) -> tuple[Node, Any]:
        node, full = self.step_handlers[step]
        value: Any = body
        if full:
            from nuserve.graph.plain import StepEvent  # noqa: PLC0415 - only on errors

            value = StepEvent(body, event.path, event.method, event.headers, event.content_type,
                              event.id, event.trigger)  # fmt: skip
            value.error = f"{type(error).__name__}: {error}"
            value.origin_state = step
        assert node.call is not None
        return node, (node.call(value, event) if node.takes_event else node.call(value))

    def _step_failed(self, event: Event, step: str, body: Any, error: Exception) -> Response:
        try:
            node, result = self._step_call(event, step, body, error)
            if node.is_async:
                _close(result)
                raise ConfigError(f"error step {node.name!r} is async; use the async engine")
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the answer
            return error_response(event, step, exc)
        return _as_answer(result)

    async def _step_failed_async(
        self, event: Event, step: str, body: Any, error: Exception
    ) -> Response:
        try:
            node, result = self._step_call(event, step, body, error)
            if node.is_async:
                result = await result
        except Exception as exc:  # noqa: BLE001 - the handler's failure is the answer
            return error_response(event, step, exc)
        return _as_answer(result)

    def _log(self, event: Event, step: str, error: Exception) -> None:
        error.add_note(f"raised in flow step {step!r}")
        if isinstance(error, NuserveError) and error.status < 500:
            self.context.logger.info("event %s: step %s: %s", event.id, step, error)
        else:
            self.context.logger.error(
                "event %s: flow step %s raised", event.id, step, exc_info=error
            )

    def _handler_failed(
        self, event: Event, step: str, error: Exception, exc: Exception
    ) -> Response:
        assert self.on_error is not None
        self.context.logger.error("event %s: the error handler raised", event.id, exc_info=exc)
        if isinstance(exc, NuserveError):
            return Response({"error": exc.message, "id": event.id}, exc.status, exc.headers)
        message = (
            f"error handler {self.on_error.name!r} raised {type(exc).__name__}: {exc} "
            f"(handling: step {step!r} raised {type(error).__name__}: {error})"
        )
        return Response({"error": message, "id": event.id}, 500)


def _check_sync_operations(step: str, model: V2ModelServer, fix: str) -> None:
    """Refuse ``async def op_<name>`` in a sync flow when it is built, not at its first call
    (a 500). A router class's operations are its own methods, behind its endpoint."""
    owner = model.router if isinstance(model, RouterEndpoint) else model
    names = async_operations(type(owner), owner.operations)
    if names:
        ops = ", ".join(f"op_{name}" for name in names)
        raise ConfigError(
            f"router step {step!r} has model {model.name!r} with async operations ({ops}), "
            f"which the sync engine cannot await; make them plain def, or {fix}"
        )


def _as_answer(result: Any) -> Response:
    if type(result) is Response:
        return result
    return Response(result.body if isinstance(result, Event) else result)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if callable(close):
        close()


def error_response(event: Event, step: str, error: Exception) -> Response:
    """``{"error": "step 'x' raised <Type>: <message>", "id"}``; nuserve errors keep status."""
    message = f"step {step!r} raised {type(error).__name__}: {error}"
    if isinstance(error, NuserveError):
        return Response({"error": message, "id": event.id}, error.status, dict(error.headers))
    return Response({"error": message, "id": event.id}, 500)


def handled(event: Event, step: str, error: Exception, result: Any) -> Response:
    """The error handler's answer: ``None`` keeps the error's, a value answers 200."""
    if result is None:
        return error_response(event, step, error)
    return result if type(result) is Response else Response(result)
