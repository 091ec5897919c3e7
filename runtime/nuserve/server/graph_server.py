"""GraphServer: builds the graph from a serving spec and answers events. No I/O here.

``run`` (sync) and ``run_async`` never raise: every error becomes a JSON ``{"error", "id"}``
response with the error's status; unexpected ones are logged with their traceback.

With ``request_timeout`` set in the spec, a request that overruns it is answered 504. Sync
user code then runs in the model's lane thread (``nuserve.server.lanes``), which the caller waits
for with a timeout; async hooks are awaited with ``asyncio.wait_for`` and cancelled. Without
it, the request path is the fast one: sync hooks run inline, nothing is timed. Not covered:
sync code that runs on the event loop from inside a coroutine (the merged ``predict`` of a
batched model, sync hooks beside async ones in one model, sync steps of an async-engine
flow): the loop cannot give up on those, and Nuclio's ``eventTimeout`` is the backstop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import weakref
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from nuserve.context import ServingContext
from nuserve.errors import ConfigError, NuserveError, PayloadTooLarge, RequestTimeout
from nuserve.event import Event, Response, Stream
from nuserve.model.batching import mergeable_groups
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import Protocol
from nuserve.resolve import load_code_module, resolve_class
from nuserve.routers.router import ModelRouter, Target
from nuserve.server.builtins import BUILTINS
from nuserve.server.lanes import Lanes, expire
from nuserve.server.private_loop import PrivateLoop
from nuserve.spec.routers import RouterSpec, RouteSpec
from nuserve.spec.serving import ServingSpec

if TYPE_CHECKING:
    from nuserve.graph import Flow
    from nuserve.routers.parallel import ParallelRun
    from nuserve.tracking import Tracker

RAW_BODIES = frozenset({bytes, bytearray, str, memoryview})

T = TypeVar("T")


class GraphServer:
    """One worker's copy of the graph, built from a ``ServingSpec``."""

    def __init__(
        self,
        spec: ServingSpec,
        context: ServingContext | None = None,
        namespaces: list[tuple[str, Mapping[str, Any]]] | None = None,
        code_dirs: list[Path] | None = None,
    ) -> None:
        self.spec = spec
        self.context = context or ServingContext()
        self.context.parameters = {**spec.parameters, **self.context.parameters}
        self.context.function_name = self.context.function_name or spec.name
        self.namespaces = list(namespaces or [])
        self.code_dirs = list(code_dirs or [])
        self.code_module: ModuleType | None = None
        if spec.filename:
            self.code_module = load_code_module(spec.filename, code_dirs, spec.name)
            self.namespaces.append((f"code file {spec.filename}", vars(self.code_module)))
        self.namespaces.append(("nuserve built-ins", BUILTINS))
        self.root: ModelRouter | Flow = self._build_root()
        self._private = PrivateLoop()
        weakref.finalize(self, self._private.close)
        self.tracker: Tracker | None = None
        self.max_body_size = spec.max_body_size
        self.default_content_type = spec.default_content_type
        """MLRun's: the content type of events that carry none (``None``: leave them)."""
        self.request_timeout = spec.request_timeout
        """Seconds a request may take (504 beyond); ``None``: untimed, the fast path."""
        self.lanes: Lanes | None = None
        """Where sync user code runs when requests are timed (set by ``start``)."""

    def _build_root(self) -> ModelRouter | Flow:
        graph = self.spec.graph
        if graph is None:
            raise ConfigError(
                f"function {self.spec.name!r} has no graph; call fn.set_topology('router') "
                "and fn.add_model(...) first"
            )
        if isinstance(graph, RouterSpec):
            return self._build_router(graph)
        from nuserve.graph import build_flow  # noqa: PLC0415 - only functions serving a flow

        return build_flow(graph, self.context, self.namespaces, self._build_router)

    def _build_router(self, graph: RouterSpec) -> ModelRouter:
        """A router and its models (the graph root, or a router step of a flow)."""
        router_class = resolve_class(graph.class_name or "ModelRouter", self.namespaces)
        router: ModelRouter = router_class(context=self.context, **graph.class_args)
        if not isinstance(router, ModelRouter):
            raise ConfigError(f"router class {router_class.__name__} is not a ModelRouter")
        # a ParallelRun exists only once its module is imported (a graph without one skips it)
        parallel = sys.modules.get("nuserve.routers.parallel")
        is_parallel = parallel is not None and isinstance(router, parallel.ParallelRun)
        for key, route in graph.routes.items():
            if is_parallel and self._is_step_child(route):
                cast("ParallelRun", router).add_step_child(key, self._step_child(key, route))
                continue
            class_args = dict(route.class_args)
            if route.model_url is not None:
                class_args["model_url"] = route.model_url
            if route.class_name is not None:
                model_class = resolve_class(route.class_name, self.namespaces)
            elif route.model_url is not None:
                from nuserve.routers.remote import RemoteModel  # noqa: PLC0415 - on demand

                model_class = RemoteModel
            else:
                raise ConfigError(
                    f"model {key!r} has no class_name; pass class_name= (or model_url= for "
                    "a remote model) to add_model"
                )
            if not issubclass(model_class, V2ModelServer):
                raise ConfigError(f"model class {model_class.__name__} is not a V2ModelServer")
            name = key.partition(":")[0]
            model = model_class(
                context=self.context,
                name=name,
                model_path=self._local_path(route.model_path),
                **class_args,
            )
            router.add_route(key, model, default=route.default)
        return router

    def _is_step_child(self, route: RouteSpec) -> bool:
        """A ParallelRun child that is a step (MLRun): a handler, or a class that is no model."""
        if route.class_name is None:
            return "handler" in route.class_args or isinstance(getattr(route, "handler", None), str)
        if route.model_url is not None:
            return False
        return not issubclass(resolve_class(route.class_name, self.namespaces), V2ModelServer)

    def _step_child(self, key: str, route: RouteSpec) -> Callable[[Any], Any]:
        from nuserve.graph.plain import build_plain  # noqa: PLC0415 - only for step children
        from nuserve.graph.steps import resolve_handler  # noqa: PLC0415

        args = dict(route.class_args)
        handler = args.pop("handler", None) or getattr(route, "handler", None)
        if route.model_path:
            args["model_path"] = route.model_path
        if route.class_name is None:
            if not isinstance(handler, str) and not callable(handler):
                raise ConfigError(f"ParallelRun child {key!r} needs class_name= or handler=")
            return resolve_handler(handler, self.namespaces)
        cls = resolve_class(route.class_name, self.namespaces)
        _, call, _ = build_plain(cls, key, args, self.context, {}, handler)
        return call

    def _local_path(self, path: str | None) -> str | None:
        """A relative model path is looked up in the cwd, then in the code directories."""
        if not path or "://" in path or Path(path).is_absolute() or Path(path).exists():
            return path
        for directory in self.code_dirs:
            if (directory / path).exists():
                return str(directory / path)
        return path

    def start(self) -> GraphServer:
        """Load every model (per ``load_mode``) and freeze the routing table."""
        for model in self.root.models():
            model.streaming = self.spec.streaming
            if getattr(model, "generative", False):
                model.request_timeout = self.request_timeout  # type: ignore[attr-defined]
        if isinstance(self.root, ModelRouter):
            self._mount_generative(self.root)
        else:
            self.root.streaming = self.spec.streaming
        self.root.freeze()
        if self.spec.tracking:
            from nuserve.tracking import create_tracker  # noqa: PLC0415 - only when tracking

            self.tracker = create_tracker(self.spec.tracking, self.context)
            for model in self.root.models():
                model.tracker = self.tracker
            self.tracker.start()
        for model in self.root.models():
            model.start(self.spec.load_mode)
        if self.request_timeout is not None:
            self.lanes = Lanes(self.root, self.spec.name)
        return self

    def needs_loop(self) -> bool:
        """Whether answering a request may need an event loop (known once ``start`` ran): a
        streamed graph, a flow on the async engine, a model with async hooks, adaptive
        batching or remote calls, a generative model, or a mounted front end. Such a graph
        is answered with ``run_async`` on the worker's loop; any other is answered by ``run``
        in the caller's thread (``nuserve serve``'s gRPC threads do so)."""
        if self.spec.streaming:
            return True
        root = self.root
        if not isinstance(root, ModelRouter):
            return getattr(root, "engine", "sync") != "sync"
        if root.has_mounts():
            return True
        return any(m.is_async or getattr(m, "generative", False) for m in root.models())

    def _mount_generative(self, router: ModelRouter) -> None:
        """The OpenAI-compatible endpoints and the generate extension, when the router
        serves an ``LLModel`` (``nuserve.llm``)."""
        if not any(getattr(m, "generative", False) for m in router.models()):
            return
        from nuserve.llm import mount_frontend, mount_generate  # noqa: PLC0415 - LLMs only

        mount_frontend(router, self.record_generation)
        mount_generate(router)

    def record_generation(self, model: V2ModelServer, record: dict[str, Any]) -> None:
        """An LLM request's measures (tokens, time to first token, inter-token latency,
        finish reason), to the tracker when the function tracks requests."""
        tracker = self.tracker
        if tracker is not None:
            tracker.record_generation(model, record)

    # ----- serving ----------------------------------------------------------------------

    def run(self, event: Event) -> Response:
        """Answer one event synchronously; async models run on a private event loop."""
        try:
            body = event.body
            if body.__class__ in RAW_BODIES and len(body) > self.max_body_size:
                raise self.too_large(len(body))
            if self.default_content_type is not None and not event.content_type:
                event.content_type = self.default_content_type
            if self.lanes is not None:
                return self._run_timed(event, self.lanes)
            result = self.root.dispatch(event)
            if type(result) is Response:
                return result
            return self.complete(_resolve(result))
        except NuserveError as exc:
            return self.error_response(exc, event)
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            return self.internal_error(exc, event)

    async def run_async(self, event: Event) -> Response:
        """Answer one event inside a running event loop."""
        try:
            body = event.body
            if body.__class__ in RAW_BODIES and len(body) > self.max_body_size:
                raise self.too_large(len(body))
            if self.default_content_type is not None and not event.content_type:
                event.content_type = self.default_content_type
            if self.lanes is not None:
                return await self._run_timed_async(event, self.lanes)
            result = self.root.dispatch(event)
            if type(result) is Response:
                return result
            return await _resolve(result)
        except NuserveError as exc:
            return self.error_response(exc, event)
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            return self.internal_error(exc, event)

    def _run_timed(self, event: Event, lanes: Lanes) -> Response:
        """``run`` with the timeout: the caller's thread waits for the lane."""
        timeout = self.request_timeout
        assert timeout is not None
        lane, what = lanes.pick(event)
        if lane is None:
            result: Any = self.root.dispatch(event)
        else:
            call, future = lane.submit(self.root.dispatch, event)
            try:
                result = future.result(timeout)
            except concurrent.futures.TimeoutError:
                lane.overran(call)
                raise self.timed_out(what, "abandoned (left to end in its thread)") from None
        if type(result) is Response:
            return result
        try:
            return self.complete(asyncio.wait_for(_resolve(result), timeout))
        except TimeoutError:
            lanes.cancelled += 1
            raise self.timed_out(what, "cancelled") from None

    async def _run_timed_async(self, event: Event, lanes: Lanes) -> Response:
        """``run_async`` with the timeout: the loop waits for the lane, or awaits the
        async hooks, until the request's deadline."""
        timeout = self.request_timeout
        assert timeout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        lane, what = lanes.pick(event)
        if lane is None:
            result: Any = self.root.dispatch(event)
        else:
            call, waiter = lane.submit_async(self.root.dispatch, event, loop)
            timer = loop.call_later(timeout, expire, waiter)
            try:
                result = await waiter
            except TimeoutError:
                if loop.time() < deadline:
                    raise  # raised by the code called, not by the timer
                lane.overran(call)
                raise self.timed_out(what, "abandoned (left to end in its thread)") from None
            finally:
                timer.cancel()
        if type(result) is Response:
            return result
        try:
            return await asyncio.wait_for(_resolve(result), max(0.0, deadline - loop.time()))
        except TimeoutError:
            lanes.cancelled += 1
            raise self.timed_out(what, "cancelled") from None

    def timed_out(self, what: str, fate: str) -> RequestTimeout:
        return RequestTimeout(
            f"{what} did not answer within {self.request_timeout:g}s (request_timeout in the "
            f"serving spec); the call was {fate}. Raise request_timeout if it needs longer"
        )

    def run_batch(self, events: list[Event]) -> list[Response]:
        """Answer a list of events (Nuclio's trigger batch mode), in order.

        Inference requests for a model with batching configured share one ``predict`` call
        per model; everything else is answered one by one.
        """
        responses: list[Response | None] = [None] * len(events)
        groups: dict[int, list[tuple[int, Event, Target]]] = {}
        for i, event in enumerate(events):
            target = self.root.infer_target(event)
            model = target.model if target is not None else None
            if (
                target is None
                or model is None
                or model.batching is None
                or model.async_hooks
                or model.tracker is not None  # tracked requests go one by one, as served
            ):
                responses[i] = self.run(event)
            else:
                groups.setdefault(id(model), []).append((i, event, target))
        for items in groups.values():
            for i, response in self._run_merged(items):
                responses[i] = response
        return [r if r is not None else Response({"error": "no answer"}, 500) for r in responses]

    def _run_merged(self, items: list[tuple[int, Event, Target]]) -> list[tuple[int, Response]]:
        model = items[0][2].model
        assert model is not None
        answered: list[tuple[int, Response]] = []
        ready: list[tuple[int, Event, dict[str, Any], dict[str, Any], Protocol]] = []
        for i, event, target in items:
            try:
                body, proto = model.decode(event, target.protocol)
                ready.append((i, event, body, model.prepare(body, proto, "infer"), proto))
            except NuserveError as exc:
                answered.append((i, self.error_response(exc, event)))
        requests = [r if type(r) is dict else None for _, _, _, r, _ in ready]
        for group in mergeable_groups(requests):
            batch = [ready[k] for k in group]
            parts: list[Any] | None = None
            if len(batch) > 1:
                try:
                    parts = model.predict_batch([request for _, _, _, request, _ in batch])
                except NuserveError:  # as the Batcher does: each request answered alone
                    parts = None
            for n, (i, event, body, request, proto) in enumerate(batch):
                try:
                    outputs = parts[n] if parts is not None else model.call_model(request, "infer")
                    answered.append((i, model.finish(event, body, request, proto, outputs)))
                except NuserveError as exc:
                    answered.append((i, self.error_response(exc, event)))
        return answered

    def too_large(self, size: int) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"request body is {size} bytes, over the limit of {self.max_body_size} bytes "
            "(max_body_size in the serving spec)"
        )

    def error_response(self, exc: NuserveError, event: Event) -> Response:
        if exc.status >= 500:
            self.context.logger.warning("event %s failed (%d): %s", event.id, exc.status, exc)
        return Response({"error": exc.message, "id": event.id}, exc.status, dict(exc.headers))

    def internal_error(self, exc: Exception, event: Event) -> Response:
        self.context.logger.exception("event %s: internal error", event.id)
        message = f"internal error: {type(exc).__name__}: {exc}"
        return Response({"error": message, "id": event.id}, 500)

    def collected(self, response: Response) -> Response:
        """A streamed response joined into one body (a caller that cannot stream)."""
        if type(response.body) is not Stream:
            return response
        return self.complete(self.collected_async(response))

    async def collected_async(self, response: Response) -> Response:
        stream = response.body
        if type(stream) is not Stream:
            return response
        try:
            body = b"".join([chunk async for chunk in stream.chunks])
        finally:
            await stream.aclose()
        return Response(body, response.status_code, response.headers, stream.media_type)

    def complete(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` from sync code on the server's private loop (``run`` answers async
        models there, and sync callers read streams there)."""
        return self._private.complete(awaitable)

    def close(self) -> None:
        """Flush tracking and release the private event loop."""
        if self.tracker is not None:
            self.tracker.close()
            self.tracker = None
        if self.lanes is not None:
            self.lanes.close()
        for model in self.root.models():
            model.close()
        if not isinstance(self.root, ModelRouter):
            self.root.close()
        self._private.close()


async def _resolve(result: Any) -> Response:
    response = await result
    return response if isinstance(response, Response) else Response(response)
