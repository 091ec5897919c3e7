"""V2ModelServer: the class users subclass to serve a model (MLRun's serving API).

Call flow per inference request: ``preprocess → validate → predict | explain → postprocess``.
Any hook may be ``async def``; which ones are is recorded once when the subclass is created,
so the request path never inspects signatures. Custom operations are methods named
``op_<name>(event)``, collected into a registry at class creation as well.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable
from typing import Any, ClassVar, Self
from typing import Protocol as Interface

from nuserve.aio import maybe_await, run_sync
from nuserve.context import ServingContext
from nuserve.errors import BadRequest, ConfigError, ModelError, NotFound, NotReady, NuserveError
from nuserve.event import Event, Response, utc_timestamp
from nuserve.model.artifacts import ModelSpec, get_model
from nuserve.model.batching import Batcher, BatchSettings, merge_inputs, row_count, split_outputs
from nuserve.model.input_checks import (
    NUMERIC_TYPES,
    Accepts,
    Bounds,
    accepted_datatypes,
    bounds_of,
    check_datatypes,
    check_rows,
)
from nuserve.model.operations import call_operation, operation_methods, operation_names
from nuserve.model.streaming import (
    CHUNK_TYPES,
    collect,
    collect_sync,
    stream_of,
    stream_of_sync,
)
from nuserve.protocols import OIP, ROWS, Protocol, detect, event_body
from nuserve.protocols.datatypes import oip_datatype


class Tracker(Interface):
    """What the server sets as ``model.tracker`` when the function tracks requests
    (``nuserve.tracking`` implements it): it wraps a model's inference to record it, and never
    blocks or fails the request."""

    def run(
        self, model: V2ModelServer, event: Event, operation: str, protocol: Protocol | None
    ) -> Response | Awaitable[Response]: ...

    def record_generation(self, model: V2ModelServer, record: dict[str, Any]) -> None:
        """A generative request's measures (``nuserve.llm``): tokens, time to first token,
        inter-token latency, finish reason."""
        ...

    def start(self) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...

    def stats(self) -> dict[str, int]: ...


HOOKS = ("load", "predict", "explain", "preprocess", "validate", "postprocess")
INFER_OPS = frozenset({"infer", "predict", "explain"})


class V2ModelServer:
    """Base class of a served model; override ``load`` and ``predict`` at least."""

    operations: ClassVar[dict[str, str]] = {}
    """Custom operation name → method name, built from the ``op_<name>`` methods."""
    async_hooks: ClassVar[frozenset[str]] = frozenset()
    """The hooks this class implements with ``async def``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.operations = operation_methods(cls)
        cls.async_hooks = frozenset(
            h
            for h in HOOKS
            if inspect.iscoroutinefunction(getattr(cls, h, None))
            or inspect.isasyncgenfunction(getattr(cls, h, None))
        )

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Keep the keyword arguments a model object was made with, so ``graph.to(obj)``
        rebuilds it from its class and arguments when the server starts (MLRun)."""
        instance = super().__new__(cls)
        instance.init_args = {k: v for k, v in kwargs.items() if k != "context"}
        return instance

    init_args: dict[str, Any]
    """The keyword arguments the object was made with (set by ``__new__``)."""

    def to_dict(self) -> dict[str, Any]:
        """MLRun's step shape: class path, name, the arguments given (``input_path`` and
        ``result_path`` beside them)."""
        from nuserve.spec.routers import class_ref  # noqa: PLC0415 - only when described

        args = dict(getattr(self, "init_args", {}))
        name = args.pop("name", None)
        paths = {k: args.pop(k) for k in ("input_path", "result_path") if args.get(k)}
        data: dict[str, Any] = {"class_name": class_ref(type(self)), "name": name or self.name}
        data["class_args"] = args
        data.update(paths)
        return data

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        model_path: str | None = None,
        model: Any = None,
        protocol: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **class_args: Any,
    ) -> None:
        self.context = context or ServingContext()
        self.name = name or type(self).__name__
        self.version = ""
        self.model_path = model_path
        self.model = model
        self.protocol = protocol
        self.input_path = input_path
        self.result_path = result_path
        self.batching = BatchSettings.from_class_args(class_args)
        self.class_args = class_args
        self.batcher: Batcher | None = None
        self.tracker: Tracker | None = None
        """Set by the server when the function tracks requests (``fn.set_tracking``)."""
        self.streaming = False
        """A generator ``predict`` streams its chunks (``fn.set_streaming(True)``); else the
        chunks are joined into one answer (``nuserve.model.streaming``)."""
        self.is_async = bool(self.async_hooks - {"load"}) or self.batching is not None
        """Requests take the async path: an async hook, or adaptive batching."""
        cls = type(self)
        self._custom_preprocess = cls.preprocess is not V2ModelServer.preprocess
        self._custom_postprocess = cls.postprocess is not V2ModelServer.postprocess
        self._custom_validate = cls.validate is not V2ModelServer.validate
        self.model_spec: ModelSpec | None = None
        self.metrics: dict[str, Any] = {}
        self.ready = model is not None
        self.load_error: str | None = None
        self.loading = False
        self._feature_count: int | None = None
        self._numeric_features = False
        self._feature_bounds: Bounds | None = None
        self._accepts: Accepts | None = None

    # ----- hooks users override -----------------------------------------------------------

    def load(self) -> None:
        """Load the model into ``self.model``; ``get_model()`` fetches the artifact."""

    def predict(self, request: dict[str, Any]) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__}.predict is not implemented; override predict(request)"
        )

    def explain(self, request: dict[str, Any]) -> Any:
        """A 404, not a 500: a client asking a model for what it does not offer is no fault."""
        raise NotFound(
            f"model '{self.name}' does not explain: {type(self).__name__}.explain is not "
            "implemented; override explain(request)"
        )

    def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        return request

    def validate(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        """Check the request; the default wants ``inputs`` and, when the spec says, the width."""
        inputs = request.get("inputs") if type(request) is dict else None
        if inputs is None:
            got = sorted(request) if isinstance(request, dict) else type(request).__name__
            raise BadRequest(
                f"request to model '{self.name}' has no 'inputs' (got keys {got}); "
                'send {"inputs": [[...], ...]} or Open Inference Protocol tensors'
            )
        width = self._feature_count
        if width is not None:
            check_rows(self.name, inputs, width, self._numeric_features, self._feature_bounds)
        return request

    def postprocess(self, response: dict[str, Any]) -> dict[str, Any]:
        return response

    # ----- helpers for model code ---------------------------------------------------------

    def get_model(self, suffix: str = "") -> tuple[str, dict[str, str]]:
        """Fetch the artifact at ``model_path``: ``(model file, {extra_data key: path})``."""
        if not self.model_path:
            raise ConfigError(
                f"model '{self.name}' has no model_path; pass model_path= to add_model()"
            )
        model_file, extra_data, spec = get_model(self.model_path, suffix)
        self.model_spec = spec
        if spec is not None and spec.inputs:
            self._feature_count = len(spec.inputs)
            self._numeric_features = all(
                f.value_type.startswith(NUMERIC_TYPES) for f in spec.inputs
            )
            self._feature_bounds = bounds_of([f.value_type for f in spec.inputs])
            self._accepts = accepted_datatypes(spec.inputs)
        return model_file, extra_data

    def get_param(self, key: str, default: Any = None) -> Any:
        """A class argument, else a model spec parameter, else a function parameter."""
        if key in self.class_args:
            return self.class_args[key]
        if self.model_spec is not None and key in self.model_spec.parameters:
            return self.model_spec.parameters[key]
        return self.context.get_param(key, default)

    def logged_results(
        self, request: dict[str, Any], response: dict[str, Any], operation: str
    ) -> tuple[Any, Any]:
        """What tracking records of a request: ``(inputs, outputs)``; override to choose."""
        return request.get("inputs"), response.get("outputs")

    def set_metric(self, name: str, value: Any) -> None:
        """Record a metric for the current request (tracking logs it)."""
        self.metrics[name] = value

    # ----- lifecycle ----------------------------------------------------------------------

    def start(self, load_mode: str = "sync") -> None:
        """Load the model now (``sync``) or in a background thread (``async``)."""
        if self.batching is not None:
            self.batcher = Batcher(self.predict_batch, self.predict, self.batching)
        if self.ready:
            return
        if load_mode == "async":
            self.loading = True
            threading.Thread(
                target=self._load_guarded, name=f"load-{self.name}", daemon=True
            ).start()
            return
        self._load_guarded()
        if self.load_error is not None:
            raise ConfigError(self.load_error)

    def _load_guarded(self) -> None:
        self.loading = True
        try:
            result: Any = self.load()  # type: ignore[func-returns-value]
            if inspect.isawaitable(result):
                run_sync(result)
        except Exception as exc:
            self.load_error = f"model '{self.name}' failed to load: {type(exc).__name__}: {exc}"
            self.context.logger.exception("model %s failed to load", self.name)
        else:
            self.ready = True
            self.context.logger.info("model %s loaded", self.name)
        finally:
            self.loading = False

    def close(self) -> None:
        """Release what ``load`` acquired (connections, files); the server calls it at stop."""

    def readiness(self) -> str:
        """``ready``, ``loading`` or the load error."""
        if self.ready:
            return "ready"
        return self.load_error or "loading"

    def check_ready(self) -> None:
        if not self.ready:
            if self.load_error is not None:
                raise NotReady(self.load_error, retry_after=30)
            raise NotReady(f"model {self.name} is loading")

    # ----- request path -------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """Model metadata in the Open Inference Protocol's shape, from the model spec."""
        body: dict[str, Any] = {
            "name": self.name,
            "versions": [self.version] if self.version else [],
        }
        body["platform"] = "nuserve"
        spec = self.model_spec
        if spec is not None:
            body["inputs"] = [_tensor_meta(f) for f in spec.inputs]
            body["outputs"] = [_tensor_meta(f) for f in spec.outputs]
            if spec.framework:
                body["framework"] = spec.framework
        else:
            body["inputs"], body["outputs"] = [], []
        body["operations"] = operation_names(self.operations)
        return body

    def decode(self, event: Event, protocol: Protocol | None) -> tuple[dict[str, Any], Protocol]:
        """The request body as a dict and its protocol (400 when it is not a JSON object)."""
        self.check_ready()
        body = event.body
        if type(body) is not dict:
            body = event_body(event)
        return body, protocol or detect(body)

    def prepare(self, body: dict[str, Any], proto: Protocol, operation: str) -> dict[str, Any]:
        """Decode, ``preprocess`` and ``validate`` one request (sync hooks)."""
        request = self.decode_request(body, proto)
        stage = "preprocess"
        try:
            request = self.preprocess(request, operation)
            stage = "validate"
            return self.validate(request, operation)
        except NuserveError:
            raise
        except Exception as exc:
            raise self._user_error(stage, exc) from exc

    def call_model(self, request: dict[str, Any], operation: str) -> Any:
        """``predict`` or ``explain``; user exceptions become ``ModelError``."""
        try:
            return self.explain(request) if operation == "explain" else self.predict(request)
        except NuserveError:
            raise
        except Exception as exc:
            raise self._user_error(operation, exc) from exc

    def finish(
        self,
        event: Event,
        body: dict[str, Any],
        request: dict[str, Any],
        proto: Protocol,
        outputs: Any,
    ) -> Response:
        """Wrap the outputs, ``postprocess`` them and encode the answer (sync hooks)."""
        try:
            response = self.postprocess(self._response(event, body, outputs))
        except NuserveError:
            raise
        except Exception as exc:
            raise self._user_error("postprocess", exc) from exc
        return proto.respond(response, request, self.output_name())

    def decode_request(self, body: dict[str, Any], proto: Protocol) -> dict[str, Any]:
        """The protocol's request; OIP tensors of a datatype the spec's inputs do not take
        are a 400 naming the input."""
        if proto is OIP and self._accepts is not None:
            check_datatypes(self.name, body, self._accepts)
        return proto.decode(body)

    def output_name(self) -> str | None:
        """The name of the model's one output in its spec (what an unnamed result is
        answered as, so that metadata and inference agree), else ``None``."""
        spec = self.model_spec
        if spec is not None and len(spec.outputs) == 1:
            return spec.outputs[0].name
        return None

    def infer(self, event: Event, operation: str, protocol: Protocol | None = None) -> Response:
        """Run one inference request through the hooks (sync hooks only).

        The hot path: hooks the class did not override are not called, and MLRun rows (the
        format the hooks speak) skip decoding and encoding altogether.
        """
        if not self.ready:
            self.check_ready()
        body = event.body
        if type(body) is not dict:
            body = event_body(event)
        proto: Protocol
        if protocol is None:
            inputs = body.get("inputs")
            first = inputs[0] if type(inputs) is list and inputs else None
            is_oip = type(first) is dict and (
                "datatype" in first or "data" in first or "shape" in first
            )
            proto = OIP if is_oip else ROWS
        else:
            proto = protocol
        request = body if proto is ROWS else self.decode_request(body, proto)
        stage = "preprocess"
        try:
            if self._custom_preprocess:
                request = self.preprocess(request, operation)
            stage = "validate"
            if (
                self._custom_validate
                or self._feature_count is not None
                or type(request) is not dict
                or request.get("inputs") is None  # what the default validate refuses
            ):
                request = self.validate(request, operation)
            stage = operation
            outputs = self.explain(request) if operation == "explain" else self.predict(request)
            if type(outputs) in CHUNK_TYPES:
                if self.streaming:
                    stream = stream_of_sync(outputs)
                    return Response(stream, content_type=stream.media_type)
                outputs = collect_sync(outputs)
            request_id = body.get("id")
            response = {
                "id": request_id if type(request_id) is str else event.id,
                "model_name": self.name,
                "outputs": outputs,
                "timestamp": utc_timestamp(),
            }
            if self.version:
                response["model_version"] = self.version
            if self._custom_postprocess:
                stage = "postprocess"
                response = self.postprocess(response)
        except NuserveError:
            raise
        except Exception as exc:
            raise self._user_error(stage, exc) from exc
        if proto is ROWS:
            return Response(response)
        return proto.respond(response, request, self.output_name())

    async def infer_async(
        self, event: Event, operation: str, protocol: Protocol | None = None
    ) -> Response:
        """The same flow, awaiting the hooks that are ``async def``; batched when configured."""
        body, proto = self.decode(event, protocol)
        request = body if proto is ROWS else self.decode_request(body, proto)
        stage = "preprocess"
        try:  # as in ``infer``: hooks the class did not override are not called
            if self._custom_preprocess:
                request = await maybe_await(self.preprocess(request, operation))
            stage = "validate"
            if self._custom_validate:
                request = await maybe_await(self.validate(request, operation))
            elif (
                self._feature_count is not None
                or type(request) is not dict
                or request.get("inputs") is None
            ):
                request = self.validate(request, operation)  # nuserve's own: sync
            stage = operation
            if self.batcher is not None and operation != "explain":
                outputs = await self.batcher.submit(request)
            else:
                call = self.explain if operation == "explain" else self.predict
                outputs = await maybe_await(call(request))
                if type(outputs) in CHUNK_TYPES:
                    if self.streaming:
                        stream = await stream_of(outputs)
                        return Response(stream, content_type=stream.media_type)
                    outputs = await collect(outputs)
            response = self._response(event, body, outputs)
            if self._custom_postprocess:
                stage = "postprocess"
                response = await maybe_await(self.postprocess(response))
        except NuserveError:
            raise
        except Exception as exc:
            raise self._user_error(stage, exc) from exc
        if proto is ROWS:
            return Response(response)
        return proto.respond(response, request, self.output_name())

    def predict_batch(self, requests: list[dict[str, Any]]) -> list[Any]:
        """One ``predict`` call for several validated requests; outputs split back per request.

        The merged request is the first one with every request's inputs merged. A model whose
        output length does not match the total row count fails every request in the batch.
        """
        inputs = [r["inputs"] for r in requests]
        counts = [row_count(i) or 0 for i in inputs]
        merged = dict(requests[0])
        merged["inputs"] = merge_inputs(inputs)
        outputs = self.call_model(merged, "infer")
        if inspect.isawaitable(outputs):
            raise ConfigError(f"model '{self.name}' has an async predict; batch it with await")
        return split_outputs(outputs, counts, self.name)

    def run_operation(self, event: Event, operation: str) -> Any:
        """Call ``op_<operation>(event)``; returns its result (maybe awaitable)."""
        self.check_ready()
        return call_operation(self, event, operation)

    def _response(self, event: Event, body: dict[str, Any], outputs: Any) -> dict[str, Any]:
        request_id = body.get("id")
        response: dict[str, Any] = {
            "id": request_id if type(request_id) is str else event.id,
            "model_name": self.name,
            "outputs": outputs,
            "timestamp": utc_timestamp(),
        }
        if self.version:
            response["model_version"] = self.version
        return response

    def _user_error(self, stage: str, exc: Exception) -> ModelError:
        self.context.logger.error(
            "model %s raised in %s", self.name, stage, exc_info=(type(exc), exc, exc.__traceback__)
        )
        return ModelError(f"model '{self.name}' raised in {stage}: {type(exc).__name__}: {exc}")


def _tensor_meta(feature: Any) -> dict[str, Any]:
    return {
        "name": feature.name,
        "datatype": oip_datatype(feature.value_type),
        "shape": list(feature.dims) or [-1],
    }
