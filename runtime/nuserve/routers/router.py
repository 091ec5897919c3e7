"""ModelRouter: picks the model (and version and operation) a request is for.

Every path a model answers is known once the models are added, so ``freeze()`` builds one
table from exact path to target and the request path is a single dict lookup. Paths that
miss the table take the slow road: normalisation, routing by body (stream triggers name
``model``, ``version`` and ``operation`` in the body), and a 404/405 that says what exists.

Methods: POST runs model code (inference, explain, custom operations ``op_<name>``); GET and
HEAD read (metadata, readiness, health, the listing); anything else, on a path that exists,
is a 405 whose ``Allow`` header names the methods the path takes. The Open Inference Protocol
and KServe v1 infer with POST only. MLRun's model server reads the method only to answer
metadata and readiness to GET: ``/infer`` and ``op_<name>`` run for any method. Here they
did too, so PUT, PATCH or TRACE ran ``predict`` (found by the OpenAPI conformance run) and
a GET ran custom operations, which let a link or a crawler change a model's state
(``op_feedback``); both are refused now. Stream triggers arrive as POST.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any, NamedTuple, Self

from nuserve.context import ServingContext
from nuserve.errors import (
    BadRequest,
    ConfigError,
    MethodNotAllowed,
    NotFound,
    NotReady,
    NuserveError,
)
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import INFER_OPS, V2ModelServer
from nuserve.protocols import KSERVE_V1, KSERVE_V1_EXPLAIN, Protocol, event_body
from nuserve.version import __version__

SERVER_NAME = "nuserve"
BODY_ROUTED_PATHS = frozenset({"/", "/v2/models/infer", "/v2/models/predict"})
"""Paths with no model in them: POST is routed by its body; GET on ``/`` answers health."""
READ_OPS = frozenset({"", "ready", "health", "live", "server", "list", "root"})
"""Targets GET and HEAD answer (``""``: a model's prefix, whose GET is its metadata)."""
READ_METHODS = frozenset({"GET", "HEAD"})
"""Methods that read: they never run inference (a HEAD once ran ``predict``)."""
RUNS, READS, READS_AND_RUNS = "POST", "GET, HEAD", "GET, HEAD, POST"
"""The ``Allow`` headers of 405 answers: paths that run model code, that read, or both."""
NAME_LIMIT = 80
"""How much of a client's path, model or operation name an error message quotes."""


Handler = Callable[[Event], "Response | Awaitable[Response]"]
"""What a mounted path runs (``ModelRouter.mount``): an event in, a response out."""


class Target(NamedTuple):
    """Where a path leads: a model (or None for server paths), an operation, a protocol;
    or, for a mounted path, the handler that answers it."""

    model: V2ModelServer | None
    op: str
    protocol: Protocol | None = None
    handler: Handler | None = None


def split_key(key: str) -> tuple[str, str]:
    """``"name:version"`` → ``("name", "version")``; a bare name has version ``""``."""
    name, _, version = key.partition(":")
    if not name or "/" in name or "/" in version:
        raise ConfigError(f"model key {key!r} is not 'name' or 'name:version' (no '/' allowed)")
    return name, version


class ModelRouter:
    """The default router: one route per ``add_model`` key, chosen by path or body."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Keep the keyword arguments a router object was made with (``init_args``), so an
        object passed to ``set_topology("router", obj)`` or ``graph.to(obj)`` is rebuilt
        from its class and arguments when the server starts (MLRun)."""
        instance = super().__new__(cls)
        instance.init_args = {k: v for k, v in kwargs.items() if k not in ("context", "routes")}
        return instance

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        **class_args: Any,
    ) -> None:
        self.init_args: dict[str, Any] = getattr(self, "init_args", {})
        self.context = context or ServingContext()
        self.name = name or "router"
        self.class_args = class_args
        self.routes: dict[str, V2ModelServer] = {}
        self.versions: dict[str, dict[str, V2ModelServer]] = {}
        self.default_version: dict[str, str] = {}
        self._table: dict[str, Target] = {}
        self._mounts: dict[str, Target] = {}
        self._marked_default: set[str] = set()
        for key, model in (routes or {}).items():
            self.add_route(key, model)

    # ----- building ---------------------------------------------------------------------

    def add_route(self, key: str, model: V2ModelServer, default: bool = False) -> None:
        name, version = split_key(key)
        if key in self.routes:
            raise ConfigError(f"model {key!r} is added twice; use another name or version")
        model.name, model.version = name, version
        self.routes[key] = model
        versions = self.versions.setdefault(name, {})
        versions[version] = model
        if default:
            self._marked_default.add(name)
            self.default_version[name] = version
        elif name not in self._marked_default and self.default_version.get(name) != "":
            # as MLRun routes it: /v2/models/<name> is the model added without a version when
            # there is one (its key is the bare name), else the latest version added
            self.default_version[name] = version

    def models(self) -> Iterator[V2ModelServer]:
        return iter(self.routes.values())

    def mount(self, path: str, handler: Handler, model: V2ModelServer | None = None) -> None:
        """Answer ``path`` (any method) with ``handler``: a front end beside the model paths,
        such as the OpenAI-compatible one (``nuserve.llm``). A mount wins over a model path
        it shadows (``/v1/models/<name>``: KServe v1's readiness, OpenAI's model)."""
        self._mounts[path] = Target(model, "mounted", None, handler)
        if self._table:
            self._table[path] = self._mounts[path]

    def targets(self) -> dict[str, Target]:
        """The path table (``freeze`` builds it): path → where it leads."""
        return dict(self._table)

    def has_mounts(self) -> bool:
        """Whether a front end is mounted (its handlers are coroutines)."""
        return bool(self._mounts)

    def freeze(self) -> None:
        """Build the path table; call after the last ``add_route``."""
        table: dict[str, Target] = {
            "/v2": Target(None, "server"),
            "/v2/health/live": Target(None, "live"),
            "/v2/health/ready": Target(None, "health"),
            "/v2/models": Target(None, "list"),
        }
        for name, versions in self.versions.items():
            for version, model in versions.items():
                prefixes = [f"/v2/models/{name}/versions/{version}"] if version else []
                if self.default_version[name] == version:
                    prefixes.append(f"/v2/models/{name}")
                    table[f"/v1/models/{name}:predict"] = Target(model, "infer", KSERVE_V1)
                    table[f"/v1/models/{name}:explain"] = Target(
                        model, "explain", KSERVE_V1_EXPLAIN
                    )
                    table[f"/v1/models/{name}"] = Target(model, "ready")
                for prefix in prefixes:
                    table[prefix] = Target(model, "")
                    for op in ("infer", "predict", "explain", "ready"):
                        table[f"{prefix}/{op}"] = Target(model, op)
                    for op in model.operations:
                        table.setdefault(f"{prefix}/{op}", Target(model, f"op_{op}"))
        table.update(self._mounts)
        self._table = table

    # ----- serving ----------------------------------------------------------------------

    def dispatch(self, event: Event) -> Response | Awaitable[Response]:
        """Answer one event; async models return an awaitable."""
        target = self._table.get(event.path) or self.resolve(event)
        model, op, protocol, mounted = target
        if mounted is not None:
            return mounted(event)
        method = event.method
        if method == "POST":
            if model is not None:
                if op in INFER_OPS or op == "":
                    operation = op or "infer"
                    if model.tracker is not None:
                        return model.tracker.run(model, event, operation, protocol)
                    if model.is_async:
                        return model.infer_async(event, operation, protocol)
                    return model.infer(event, operation, protocol)
                if op.startswith("op_"):
                    return _wrap(model.run_operation(event, op[3:]))
        elif method in READ_METHODS and op in READ_OPS:
            return self.answer_get(model, op, event)
        raise not_allowed(event, allowed_methods(op))

    def infer_target(self, event: Event) -> Target | None:
        """The target when ``event`` is a plain ``infer``/``predict`` request, else ``None``."""
        if event.method != "POST":
            return None
        try:
            target = self._table.get(event.path) or self.resolve(event)
        except NuserveError:
            return None
        if target.model is None or target.op not in ("", "infer", "predict"):
            return None
        return target

    def answer_get(self, model: V2ModelServer | None, op: str, event: Event) -> Response:
        if model is not None:
            if op == "ready":
                model.check_ready()
                return Response({"name": model.name, "ready": True})
            return Response(model.metadata())
        if op == "list":
            return Response(self.listing())
        if op == "server":
            return Response({"name": SERVER_NAME, "version": _version(), "extensions": []})
        if op == "live":
            return Response({"live": True})
        if op == "root":
            return Response(self.alive())
        return self.health()

    def alive(self) -> dict[str, Any]:
        """``GET /``: KServe's liveness answer (its client reads ``status``), with whether
        every model is ready (``/v2/health/ready`` says which are not)."""
        ready = all(m.ready for m in self.models())
        return {"status": "alive", "ready": ready, "models": len(self.routes)}

    def health(self) -> Response:
        not_ready = {
            m.name + (f":{m.version}" if m.version else ""): m.readiness()
            for m in self.models()
            if not m.ready
        }
        if not_ready:
            detail = ", ".join(f"{k} ({v})" for k, v in sorted(not_ready.items()))
            raise NotReady(f"models not ready: {detail}")
        return Response({"ready": True, "models": len(self.routes)})

    def listing(self) -> dict[str, Any]:
        return {
            "models": sorted(self.versions),
            "versions": {n: sorted(v for v in vs if v) for n, vs in sorted(self.versions.items())},
        }

    def resolve(self, event: Event) -> Target:
        """The slow path: normalise the path, route by body, or explain the 404."""
        path = event.path or "/"
        if "?" in path:
            path = path.split("?", 1)[0]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        target = self._table.get(path)
        if target is not None:
            return target
        if path in BODY_ROUTED_PATHS:
            if event.method == "POST":
                return self.route_by_body(event)
            if path != "/":
                raise not_allowed(event, RUNS)
            if event.method in READ_METHODS:
                return Target(None, "root")
            raise not_allowed(event, READS_AND_RUNS)
        raise self.not_found(path, event.method)

    def route_by_body(self, event: Event) -> Target:
        body = event_body(event)
        name = body.get("model")
        if name is None:
            if len(self.versions) != 1:
                raise BadRequest(
                    "request names no model; put it in the path (/v2/models/<model>/infer) "
                    f"or in the body's 'model' field (models: {', '.join(sorted(self.versions))})"
                )
            name = next(iter(self.versions))
        version = body.get("version") or ""
        operation = body.get("operation") or "infer"
        for field, value in (("model", name), ("version", version), ("operation", operation)):
            if not isinstance(value, str):
                raise BadRequest(f"body field '{field}' must be a string (got {_quote(value)})")
            if "/" in value:  # a name, not a path: the table would resolve it as one
                raise BadRequest(f"body field '{field}' must be a name without '/' (got {value!r})")
        path = f"/v2/models/{name}" + (f"/versions/{version}" if version else "")
        return self.body_target(path, operation)

    def body_target(self, prefix: str, operation: str) -> Target:
        """The target of a body naming ``operation`` of the model at ``prefix``: one that
        POST runs (``ready`` is what GET reads, and was a 405 naming ``/``)."""
        target = self._table.get(f"{prefix}/{operation}")
        if target is None:
            raise self.not_found(f"{prefix}/{operation}", "POST")
        if target.op in READ_OPS:
            ops = ", ".join(sorted(target.model.operations)) if target.model else ""
            raise BadRequest(
                f"body field 'operation' is {operation!r}, which is read with GET "
                f"{prefix}/{operation}; a body runs infer, predict, explain or an operation "
                f"(operations: {ops or 'none'})"
            )
        return target

    def not_found(self, path: str, method: str) -> NotFound:
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["v2", "models"]:
            return NotFound(
                f"no route for {_cut(method)} {_cut(path)}; "
                "model paths are /v2/models/<model>/infer"
            )
        name = parts[2]
        versions = self.versions.get(name)
        if versions is None:
            known = ", ".join(sorted(self.versions)) or "none"
            return NotFound(f"model {_quote(name)} not found (models: {known})")
        rest = parts[3:]
        if rest[:1] == ["versions"]:
            version = rest[1] if len(rest) > 1 else ""
            if version not in versions:
                known = ", ".join(sorted(v for v in versions if v)) or "none"
                return NotFound(
                    f"model {_quote(name)} has no version {_quote(version)} (versions: {known})"
                )
            rest = rest[2:]
        op = "/".join(rest)
        model = versions.get(self.default_version[name])
        ops = ["infer", "predict", "explain", "ready", *sorted(model.operations if model else [])]
        return NotFound(
            f"model {_quote(name)} has no operation {_quote(op)} (operations: {', '.join(ops)})"
        )


class _PendingOperation:
    """An async operation's result, answered as a ``Response`` once awaited.

    A wrapper coroutine would hide the operation's own: a sync flow that refuses the
    awaitable and closes it left ``op_<name>`` "never awaited" (a ``RuntimeWarning``).
    """

    __slots__ = ("_result",)

    def __init__(self, result: Awaitable[Any]) -> None:
        self._result = result

    def __await__(self) -> Generator[Any, None, Response]:
        return _to_response((yield from self._result.__await__()))

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if callable(close):
            close()


def allowed_methods(op: str) -> str:
    """The methods a target takes, as an ``Allow`` header lists them."""
    if op == "":
        return READS_AND_RUNS
    return READS if op in READ_OPS else RUNS


def not_allowed(event: Event, allow: str) -> MethodNotAllowed:
    """The 405 for ``event``: the path, the methods it takes (and in ``Allow``), the method."""
    accepts = " or ".join(allow.rsplit(", ", 1))
    return MethodNotAllowed(
        f"{_cut(event.path)} accepts {accepts}, not {_cut(event.method)}",
        headers={"Allow": allow},
    )


def _wrap(result: Any) -> Response | Awaitable[Response]:
    if isinstance(result, Awaitable):
        return _PendingOperation(result)
    return _to_response(result)


def _cut(value: object) -> str:
    """A client's path or method, cut to ``NAME_LIMIT`` characters, for an error message.

    A 100 kB path was quoted whole in its 404, twice over in the log line beside it.
    """
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= NAME_LIMIT else f"{text[:NAME_LIMIT]}... ({len(text)} chars)"


def _quote(value: object) -> str:
    """A client's name (or a value of the wrong type), quoted and cut, for an error message."""
    return _cut(repr(value))


def _to_response(result: Any) -> Response:
    return result if isinstance(result, Response) else Response(result)


def _version() -> str:

    return __version__
