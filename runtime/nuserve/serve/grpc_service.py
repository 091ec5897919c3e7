"""The OIP gRPC service (``inference.GRPCInferenceService``) of ``nuserve serve --grpc-port``.

Each worker runs grpcio's sync (thread-pool) server beside its HTTP app, on the same port as
the other workers (``SO_REUSEPORT``: the kernel spreads connections). A call becomes the same
``Event`` an HTTP request makes (the OIP path, a JSON-object body) and runs through the
worker's ``GraphServer``, so models, tracking and answers are the ones HTTP gets; it is
counted in ``/metrics`` under the same model and operation.

Where a call runs, decided once per graph when the worker starts (``GraphServer.needs_loop``):

- a sync graph (sync models, no adaptive batching, a sync-engine flow) is answered in the gRPC
  thread itself, with ``GraphServer.run``, as Nuclio's sync handler answers it. So a model's
  ``predict`` may run in a gRPC thread while an HTTP request runs it on the worker's event loop
  thread: two calls at once, one per thread, where HTTP alone never overlaps them. A model that
  keeps state between calls must guard it (a ``threading.Lock``), or set ``request_timeout``:
  each model then runs in one lane thread, one call at a time, for HTTP and gRPC alike.
- an async graph (async hooks, adaptive batching, remote models, an async-engine flow,
  streaming, generative models) is handed to the worker's event loop
  (``run_coroutine_threadsafe(server.run_async(event))``), where HTTP requests run too: the same
  loop, batcher and tasks; the gRPC thread waits for the answer, and a call the client cancels
  is cancelled on the loop.

Why threads: grpcio's sync server answered a small tensor with about 1.4x less CPU than its
asyncio server on the same machine (bench/RESULTS.md, issue 16), but only when the call runs in
the handler thread; a hop to the loop and back costs that gain again. ``THREADS`` handler
threads serve each worker; more calls wait in grpcio's queue.

Tensors come in as ``raw_input_contents`` (decoded zero-copy, as the HTTP binary extension is)
or typed ``contents`` (checked as JSON data is); they go back as ``raw_output_contents``: the
request's ``parameters`` are ``AsTensors``, so the OIP protocol answers with each output's
header and buffer (``Tensors``), not a binary body to parse back. Errors are gRPC status
codes with the HTTP answer's message: 400 → INVALID_ARGUMENT, 404 → NOT_FOUND,
503 → UNAVAILABLE, 413 and a message over the limit → RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from types import ModuleType
from typing import Any, NoReturn

import grpc
import orjson

from nuserve.errors import BadRequest, ConfigError
from nuserve.event import Event, Response
from nuserve.nuclio.redact import redact_paths
from nuserve.protocols.binary_header import BINARY_HEADER, AsTensors, Tensors
from nuserve.serve.auth import check_bearer
from nuserve.serve.metrics import Metrics
from nuserve.serve.oip_grpc import grpc_predict_v2_pb2 as pb
from nuserve.serve.oip_grpc import grpc_predict_v2_pb2_grpc as pb_grpc
from nuserve.server.graph_server import GraphServer

THREADS = 2
"""gRPC handler threads per worker (measured 1, 2 and 4 with the real path: bench/RESULTS.md);
``NUSERVE_GRPC_THREADS`` sets another number (a model that releases the GIL may want more)."""
THREADS_ENV = "NUSERVE_GRPC_THREADS"
CODES: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}
"""HTTP status → gRPC status code (anything else ≥ 400 is INTERNAL)."""
MAX_PATHS = 1024
"""Inference paths kept per service, one per (model, version) called."""
TYPED_FIELDS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}
"""Where ``InferTensorContents`` holds each datatype (FP16 and BF16 travel raw only)."""


def model_prefix(name: str, version: str) -> str:
    return f"/v2/models/{name}" + (f"/versions/{version}" if version else "")


def parameters_of(parameters: Any) -> dict[str, Any]:
    """A protobuf ``map<string, InferParameter>`` as a plain dict."""
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        which = value.WhichOneof("parameter_choice")
        if which is not None:
            out[key] = getattr(value, which)
    return out


def infer_body(request: Any) -> dict[str, Any]:
    """The OIP body of a ``ModelInferRequest``: raw inputs as arrays over the message's
    bytes, typed contents as lists (the codec checks them as it checks JSON data); its
    ``parameters`` ask for the answer as tensors (``AsTensors``).

    This runs on every call: each protobuf field is read once (a read builds a Python object;
    a ``bytes`` field's, a copy), maps only when they hold something, repeated fields by index
    and slice (upb's iterators cost more: a one-item loop 0.5 µs, ``list(shape)`` 0.55 µs
    against 0.23 µs for ``shape[:]``).
    """
    given_inputs = request.inputs
    count = len(given_inputs)
    raw = request.raw_input_contents
    if raw and len(raw) != count:
        raise BadRequest(
            f"raw_input_contents has {len(raw)} entries but the request has "
            f"{count} inputs; send one entry per input, in order"
        )
    decode_raw = (_BINARY or _binary()).decode_raw
    inputs: list[dict[str, Any]] = []
    for i in range(count):
        given = given_inputs[i]
        name = given.name
        datatype = given.datatype
        tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": given.shape[:]}
        if given.parameters:
            parameters = parameters_of(given.parameters)
            if parameters:
                tensor["parameters"] = parameters
        if raw:
            tensor["data"] = decode_raw(name, tensor, raw[i])
        else:
            field = TYPED_FIELDS.get(datatype)
            if field is None:
                raise BadRequest(
                    f"input {name!r}: datatype {datatype!r} has no typed contents; send "
                    "it in raw_input_contents (FP16 and BF16 travel raw only)"
                )
            tensor["data"] = getattr(given.contents, field)[:]
        inputs.append(tensor)
    body_parameters = (
        AsTensors(parameters_of(request.parameters)) if request.parameters else AsTensors()
    )
    body_parameters["binary_data_output"] = True  # the binary body, if a hook drops AsTensors
    body: dict[str, Any] = {"inputs": inputs, "parameters": body_parameters}
    request_id = request.id
    if request_id:
        body["id"] = request_id
    requested = request.outputs
    if requested:
        body["outputs"] = [{"name": requested[j].name} for j in range(len(requested))]
    return body


_BINARY: ModuleType | None = None
"""``nuserve.protocols.oip_binary`` once the first call imported it (numpy)."""


def _binary() -> ModuleType:
    """``oip_binary``, imported on the first call, then kept."""
    global _BINARY  # noqa: PLW0603 - a cache of one import
    from nuserve.protocols import oip_binary  # noqa: PLC0415 - numpy

    _BINARY = oip_binary
    return oip_binary


def infer_response(response: Response) -> Any:
    """A ``ModelInferResponse`` from the protocol's answer: tensors (``Tensors``, the answer to
    the body ``infer_body`` makes), a binary body (header + chunks: a hook replaced the
    request's parameters) or a JSON one (a body made by other code than the protocol)."""
    body = response.body
    if body.__class__ is Tensors:
        answer = pb.ModelInferResponse(
            model_name=str(body.model_name or ""),
            model_version=str(body.model_version or ""),
            id=str(body.id or ""),
        )
        outputs, raw = answer.outputs, answer.raw_output_contents
        for header, chunk in body.outputs:
            outputs.add(name=header["name"], datatype=header["datatype"], shape=header["shape"])
            raw.append(chunk if chunk.__class__ is bytes else chunk.tobytes())
        return answer
    if type(body) is bytes:
        length = int(response.headers[BINARY_HEADER])
        head = orjson.loads(memoryview(body)[:length])
        answer = _answer(head)
        view = memoryview(body)
        offset = length
        outputs, raw = answer.outputs, answer.raw_output_contents
        for tensor in head.get("outputs", ()):
            parameters = tensor.get("parameters")
            size = int(parameters.get("binary_data_size", 0)) if parameters else 0
            raw.append(view[offset : offset + size].tobytes())
            offset += size
            outputs.add(
                name=str(tensor["name"]), datatype=str(tensor["datatype"]), shape=tensor["shape"]
            )
        return answer
    if isinstance(body, dict):  # a body made by other code than the protocol (a flow)
        import numpy as np  # noqa: PLC0415 - numpy

        binary_tensor = (_BINARY or _binary()).binary_tensor
        answer = _answer(body)
        for tensor in body.get("outputs") or []:
            value = np.asarray(tensor.get("data")).reshape(tensor.get("shape", [-1]))
            header, chunk = binary_tensor(str(tensor.get("name")), value, tensor.get("datatype"))
            answer.outputs.add(
                name=str(header["name"]), datatype=str(header["datatype"]), shape=header["shape"]
            )
            answer.raw_output_contents.append(bytes(chunk))
        return answer
    raise BadRequest(f"the answer is not OIP tensors (got {type(body).__name__})")


def _answer(head: dict[str, Any]) -> Any:
    """An empty ``ModelInferResponse`` with the answer's model name, version and id."""
    return pb.ModelInferResponse(
        model_name=str(head.get("model_name") or ""),
        model_version=str(head.get("model_version") or ""),
        id=str(head.get("id") or ""),
    )


class InferenceService(pb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    """The servicer (methods named as the service's calls), run in grpcio's threads: each call
    goes through ``GraphServer.run`` in the thread, or ``run_async`` on ``loop`` for a graph
    that needs one."""

    def __init__(
        self,
        server: GraphServer,
        metrics: Metrics,
        token: bytes | None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.server = server
        self.metrics = metrics.for_threads()
        """Counters of their own (``Metrics.for_threads``): the loop's count without a lock."""
        self.token = token
        self.loop = loop
        self.run: Callable[[Event, Any], Response] = (
            self.run_on_loop if loop is not None else self.run_here
        )
        """How a call is answered, chosen once: in this thread, or on the worker's loop."""
        self.infer_paths: dict[tuple[str, str], str] = {}
        """``/v2/models/<name>[/versions/<v>]/infer`` per (name, version) called (bounded)."""

    def run_here(self, event: Event, context: Any) -> Response:
        return self.server.run(event)

    def run_on_loop(self, event: Event, context: Any) -> Response:
        """``run_async`` on the worker's loop; this thread waits (a cancelled call is
        cancelled there too)."""
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(self.server.run_async(event), self.loop)
        context.add_callback(future.cancel)
        return future.result()

    def call(self, context: Any, path: str, method: str, body: Any = None) -> Response:
        """Run one event; a failure aborts the call with its code and message."""
        if self.token is not None:
            self.authenticate(context)
        started = perf_counter()
        event = Event(body, path, method)
        response = self.server.run(event) if self.loop is None else self.run_on_loop(event, context)
        status = response.status_code
        self.metrics.series(path).observe(status, perf_counter() - started)
        if status >= 300:
            error = response.body.get("error") if isinstance(response.body, dict) else None
            message = str(error or f"failed with status {status}")
            if status >= 500:
                message = redact_paths(message)
            abort(context, CODES.get(status, grpc.StatusCode.INTERNAL), message)
        return response

    def authenticate(self, context: Any) -> None:
        """The bearer token of the call's metadata (``authorization``), as HTTP checks it."""
        headers = [
            (str(k).lower().encode(), v.encode() if isinstance(v, str) else bytes(v))
            for k, v in context.invocation_metadata() or ()
        ]
        refused = check_bearer(headers, self.token) if self.token is not None else None
        if refused is not None:
            abort(context, grpc.StatusCode.UNAUTHENTICATED, refused)

    def answer(self, context: Any, path: str, method: str, body: Any = None) -> Any:
        """The JSON body of a read (GET) or a failure's abort."""
        return self.call(context, path, method, body).body

    def ServerLive(self, request: Any, context: Any) -> Any:
        body = self.answer(context, "/v2/health/live", "GET")
        return pb.ServerLiveResponse(live=bool(body.get("live")))

    def ServerReady(self, request: Any, context: Any) -> Any:
        response = self.run(Event(None, "/v2/health/ready", "GET"), context)
        return pb.ServerReadyResponse(ready=response.status_code == 200)

    def ModelReady(self, request: Any, context: Any) -> Any:
        path = model_prefix(request.name, request.version) + "/ready"
        response = self.run(Event(None, path, "GET"), context)
        if response.status_code == 503:
            return pb.ModelReadyResponse(ready=False)  # loading, or failed: not an error
        if response.status_code != 200:
            self.call(context, path, "GET")  # aborts with the code and message
        return pb.ModelReadyResponse(ready=True)

    def ServerMetadata(self, request: Any, context: Any) -> Any:
        body = self.answer(context, "/v2", "GET")
        return pb.ServerMetadataResponse(
            name=body["name"], version=body["version"], extensions=body.get("extensions", [])
        )

    def ModelMetadata(self, request: Any, context: Any) -> Any:
        body = self.answer(context, model_prefix(request.name, request.version), "GET")
        meta = pb.ModelMetadataResponse.TensorMetadata
        return pb.ModelMetadataResponse(
            name=body["name"],
            versions=body.get("versions", []),
            platform=body.get("platform", ""),
            inputs=[
                meta(name=t["name"], datatype=t["datatype"], shape=t["shape"])
                for t in body.get("inputs", [])
            ],
            outputs=[
                meta(name=t["name"], datatype=t["datatype"], shape=t["shape"])
                for t in body.get("outputs", [])
            ],
        )

    def ModelInfer(self, request: Any, context: Any) -> Any:
        key = (request.model_name, request.model_version)
        path = self.infer_paths.get(key)
        if path is None:
            path = model_prefix(*key) + "/infer"
            if len(self.infer_paths) < MAX_PATHS:  # names come from clients: bounded
                self.infer_paths[key] = path
        try:
            body = infer_body(request)
        except BadRequest as exc:
            self.metrics.series(path).observe(400, 0.0)
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        response = self.call(context, path, "POST", body)
        try:
            return infer_response(response)
        except (BadRequest, ValueError, KeyError, TypeError) as exc:
            abort(context, grpc.StatusCode.INTERNAL, f"cannot send the answer: {exc}")


def abort(context: Any, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the call with ``code`` (``context.abort`` raises)."""
    context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")  # pragma: no cover


class GrpcServer:
    """One worker's running gRPC server and its handler threads."""

    def __init__(self, server: grpc.Server, executor: ThreadPoolExecutor, on_loop: bool) -> None:
        self.server = server
        self.executor = executor
        self.on_loop = on_loop
        """Whether calls are answered on the worker's loop (an async graph)."""

    async def stop(self, grace: float) -> None:
        """Refuse new calls, let the running ones end within ``grace`` seconds (the loop keeps
        running meanwhile, for the calls an async graph answers there), then join the
        threads."""
        stopped = self.server.stop(grace)
        await asyncio.to_thread(stopped.wait)
        await asyncio.to_thread(self.executor.shutdown, True)


def thread_count(value: str | None) -> int:
    """``NUSERVE_GRPC_THREADS`` as a number of threads (``THREADS`` when unset)."""
    if not value:
        return THREADS
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= 64:
        raise ConfigError(f"{THREADS_ENV}={value!r}: give a number of threads from 1 to 64")
    return count


async def start(
    server: GraphServer,
    metrics: Metrics,
    host: str,
    port: int,
    max_message: int,
    token: bytes | None = None,
    threads: int | None = None,
) -> GrpcServer:
    """Start this worker's gRPC server on ``host:port`` (shared by the workers); called on the
    worker's loop, which answers the calls of a graph that needs one."""
    options = [
        ("grpc.max_receive_message_length", max_message),
        ("grpc.max_send_message_length", -1),
        ("grpc.so_reuseport", 1),
    ]
    threads = threads or thread_count(os.environ.get(THREADS_ENV))
    on_loop = server.needs_loop()
    loop = asyncio.get_running_loop() if on_loop else None
    executor = ThreadPoolExecutor(threads, thread_name_prefix="nuserve-grpc")
    grpc_server = grpc.server(executor, options=options)
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(
        InferenceService(server, metrics, token, loop), grpc_server
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = grpc_server.add_insecure_port(address)
    except RuntimeError as exc:
        executor.shutdown(wait=False)
        raise ConfigError(f"cannot serve gRPC on {address}: {exc}") from None
    if bound == 0:
        executor.shutdown(wait=False)
        raise ConfigError(f"cannot serve gRPC on {address} (the port is taken?)")
    grpc_server.start()
    return GrpcServer(grpc_server, executor, on_loop)
