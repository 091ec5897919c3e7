"""BaseRouter: the base class of routers that choose and combine models per request.

Write a router by overriding two methods::

    class FirstTwo(BaseRouter):
        def select_routes(self, event, request):      # which children answer this request
            return list(self.routes.values())[:2]

        def merge(self, event, request, results):     # {route key: outputs} -> outputs
            return results

    fn.set_topology("router", class_name=FirstTwo, name="pair")

The router is a model of its own, named by the ``name`` class argument (default: the class's
name, as MLRun's ``VotingEnsemble``): ``/v2/models/<name>/infer``, ``/v2/models/infer`` and a
body without ``model`` reach it, ``GET /v2/models/<name>`` gives its metadata and state, and
``op_<op>(event)`` methods of the router answer ``/v2/models/<name>/<op>``. Each child stays
reachable alone at ``/v2/models/<child>/infer``.

The chosen children run side by side (``fanout``), each getting the decoded request as MLRun
rows (a shallow copy: children must not change the inputs in place). A failing child fails
the request with that child's status, the message naming the child. With one child chosen,
the answer is that child's (its ``model_name``); with several, the router's own. ``explain``
answers each chosen child's explanation, keyed by route, without ``merge``.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any, ClassVar, cast

from nuserve.context import ServingContext
from nuserve.errors import BadRequest, ConfigError, ModelError, NuserveError
from nuserve.event import Event, Response, utc_timestamp
from nuserve.model.operations import operation_methods, operation_names
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import Protocol, detect, event_body
from nuserve.routers.endpoint import RouterEndpoint, delegate
from nuserve.routers.fanout import call_async, outputs_of, route_key, run_all
from nuserve.routers.router import ModelRouter, Target

MLRUN_IGNORED_ARGS = frozenset(
    {"protocol", "url_prefix", "health_prefix", "executor_type", "input_path"}
    | {"result_path", "extend_event"}
)
"""MLRun router arguments accepted for compatibility and ignored (fan-out is always threads
for sync models and the event loop for async ones)."""


class BaseRouter(ModelRouter):
    """Override ``select_routes`` (which children answer) and ``merge`` (how to combine)."""

    operations: ClassVar[dict[str, str]] = {}
    """Router operation name → method name, from the ``op_<name>`` methods."""
    endpoint_class: ClassVar[type[RouterEndpoint]] = RouterEndpoint
    """The model class answering the router's own paths (one per router class)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.operations = operation_methods(cls)
        methods: dict[str, Any] = {m: delegate(m) for m in cls.operations.values()}
        name = f"{cls.__name__}Endpoint"
        bases = (RouterEndpoint,)
        cls.endpoint_class = cast(type[RouterEndpoint], type(name, bases, methods))

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        **class_args: Any,
    ) -> None:
        kind = type(self).__name__
        unknown = sorted(set(class_args) - MLRUN_IGNORED_ARGS)
        if unknown:
            raise ConfigError(
                f"{kind} got unknown argument(s) {', '.join(map(repr, unknown))}; "
                "check the spelling of the class arguments of set_topology()"
            )
        name = kind if name is None else name
        if not isinstance(name, str) or not name or ":" in name or "/" in name:
            raise ConfigError(f"router name {name!r} must be a plain name (no ':' or '/')")
        super().__init__(context, name, routes, **class_args)
        self.lock = threading.Lock()
        """Guards state changed by requests (bandit statistics, remembered ids)."""
        self.endpoint: RouterEndpoint = self.endpoint_class(self)

    # ----- the two methods routers override --------------------------------------------

    def select_routes(self, event: Event, request: dict[str, Any]) -> list[V2ModelServer]:
        """The children that answer this request (``self.routes`` values); default: all."""
        return list(self.routes.values())

    def merge(self, event: Event, request: dict[str, Any], results: dict[str, Any]) -> Any:
        """The router's outputs from ``{route key: child outputs}``, in ``select_routes`` order.

        Default: the outputs of a single child as they are, else the dict itself.
        """
        if len(results) == 1:
            return next(iter(results.values()))
        return results

    # ----- optional hooks ----------------------------------------------------------------

    def check(self) -> None:
        """Validate the class arguments against the routes (called once, by ``freeze``)."""

    def respond(
        self,
        event: Event,
        request: dict[str, Any],
        replies: dict[str, Response],
        outputs: Any,
    ) -> dict[str, Any]:
        """The response dict: the child's own with one child, else the router's."""
        if len(replies) == 1:
            body = next(iter(replies.values())).body
            if type(body) is dict:
                return {**body, "outputs": outputs}
        request_id = request.get("id")
        return {
            "id": request_id if type(request_id) is str else event.id,
            "model_name": self.name,
            "outputs": outputs,
            "timestamp": utc_timestamp(),
        }

    def describe(self) -> dict[str, Any]:
        """The router's configuration, shown in ``GET /v2/models`` and its metadata."""
        return {"kind": type(self).__name__, "routes": list(self.routes)}

    def state(self) -> dict[str, Any]:
        """What the router learned (this worker's copy); shown in its metadata."""
        return {}

    # ----- building ------------------------------------------------------------------------

    def freeze(self) -> None:
        if not self.routes:
            raise ConfigError(
                f"router '{self.name}' has no models; add them with fn.add_model(...)"
            )
        registered = self.versions.get(self.name)
        if registered is not None and registered.get("") is not self.endpoint:
            raise ConfigError(
                f"model '{self.name}' has the name of its router; rename one "
                "(set_topology(..., name=...) names the router)"
            )
        self.check()
        self.endpoint = self.endpoint_class(self)
        self.versions[self.name] = {"": self.endpoint}
        self.default_version[self.name] = ""
        super().freeze()

    # ----- serving ---------------------------------------------------------------------------

    def infer(self, event: Event, operation: str, protocol: Protocol | None = None) -> Response:
        """Answer on this thread; several children run in the shared pool (``run_all``)."""
        request, proto, chosen, events = self._prepare(event, protocol, operation)
        outcomes = run_all(chosen, events, operation)
        return self._answer(event, request, proto, operation, chosen, outcomes)

    async def infer_async(
        self, event: Event, operation: str, protocol: Protocol | None = None
    ) -> Response:
        """Answer in the event loop: async children gathered, sync ones in the pool."""
        request, proto, chosen, events = self._prepare(event, protocol, operation)
        offload = len(chosen) > 1
        outcomes = await asyncio.gather(
            *(call_async(m, e, operation, offload) for m, e in zip(chosen, events, strict=True)),
            return_exceptions=True,
        )
        return self._answer(event, request, proto, operation, chosen, outcomes)

    def _prepare(
        self, event: Event, protocol: Protocol | None, operation: str
    ) -> tuple[dict[str, Any], Protocol, list[V2ModelServer], list[Event]]:
        body = event.body
        if type(body) is not dict:
            body = event_body(event)
        proto = protocol or detect(body)
        request = proto.decode(body)
        chosen = self.select_routes(event, request)
        if not chosen:
            raise NuserveError(f"router '{self.name}' chose no model for request {event.id}")
        for model in chosen:
            if self.routes.get(route_key(model)) is not model:
                raise ConfigError(
                    f"router '{self.name}' chose {model.name!r}, which is not one of its "
                    f"routes ({', '.join(self.routes)}); select_routes must return routes"
                )
        events = [self._child_event(event, request, model, operation) for model in chosen]
        return request, proto, chosen, events

    def _child_event(
        self, event: Event, request: dict[str, Any], model: V2ModelServer, operation: str
    ) -> Event:
        path = f"/v2/models/{model.name}"
        if model.version:
            path += f"/versions/{model.version}"
        return Event(
            dict(request),
            f"{path}/{operation}",
            "POST",
            event.headers,
            event.content_type,
            event.id,
            event.trigger,
        )

    def _answer(
        self,
        event: Event,
        request: dict[str, Any],
        proto: Protocol,
        operation: str,
        chosen: list[V2ModelServer],
        outcomes: list[Response | BaseException],
    ) -> Response:
        replies: dict[str, Response] = {}
        for model, outcome in zip(chosen, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                raise self.child_error(route_key(model), outcome) from outcome
            replies[route_key(model)] = outcome
        results = {key: outputs_of(reply) for key, reply in replies.items()}
        if operation == "explain":  # explanations are not merged: each child's, by name
            outputs: Any = results if len(results) > 1 else next(iter(results.values()))
        else:
            try:
                outputs = self.merge(event, request, results)
            except NuserveError:
                raise
            except Exception as exc:
                self.context.logger.exception("router %s raised in merge", self.name)
                raise ModelError(
                    f"router '{self.name}' raised in merge: {type(exc).__name__}: {exc}"
                ) from exc
        return proto.respond(self.respond(event, request, replies, outputs), request)

    def child_error(self, key: str, exc: BaseException) -> NuserveError:
        """The request's error when child ``key`` failed: its status, a message naming it."""
        if not isinstance(exc, Exception):
            raise exc  # KeyboardInterrupt, CancelledError: not the child's answer
        prefix = f"model '{key}' of router '{self.name}' failed: "
        if not isinstance(exc, NuserveError):
            self.context.logger.error("router %s: model %s failed", self.name, key, exc_info=exc)
            return NuserveError(f"{prefix}internal error: {type(exc).__name__}: {exc}")
        try:
            error = copy.copy(exc)  # the same class, status and headers (Retry-After)
        except Exception:  # noqa: BLE001 - a subclass with another constructor
            error = NuserveError(exc.message, headers=dict(exc.headers))
            error.status, error.retriable = exc.status, exc.retriable
        error.message = prefix + exc.message
        error.args = (error.message,)
        return error

    # ----- the router's own paths ---------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.name,
            "versions": [],
            "platform": "nuserve",
            "inputs": [],
            "outputs": [],
            "operations": operation_names(self.operations),
            **self.describe(),
        }
        state = self.state()
        if state:
            meta["state"] = state
        if self.context.worker_id is not None:
            meta["worker"] = self.context.worker_id
        return meta

    def listing(self) -> dict[str, Any]:
        """MLRun's shape (the route keys and the router's name under ``models``, the weights
        as configured under ``weights``) plus nuserve's ``versions`` and ``routers``."""
        listing = super().listing()
        listing["models"] = [*self.routes, *([self.name] if self.name not in self.routes else [])]
        listing["weights"] = getattr(self, "weights_arg", None)
        listing["routers"] = {self.name: self.describe()}
        return listing

    def route_by_body(self, event: Event) -> Target:
        """A body that names no model goes to the router itself."""
        body = event_body(event)
        if body.get("model") is not None:
            return super().route_by_body(event)
        operation = body.get("operation") or "infer"
        if not isinstance(operation, str):
            raise BadRequest(f"body field 'operation' must be a string (got {operation!r})")
        return self.body_target(f"/v2/models/{self.name}", operation)
