"""The floor for the gRPC benchmark: a bare grpcio server, no model, no graph.

The same OIP service (``inference.GRPCInferenceService``, nuserve's generated stubs of
``grpc_predict_v2.proto``) with the options nuserve sets. ``ModelInfer`` reads nothing of the
request and answers one fixed, prebuilt ``ModelInferResponse`` (a one-value FP64 raw output,
what bench/oip_binary.py's mean model answers); ``ServerReady`` and ``ModelReady`` say yes.
What a client gets from it is what the client and grpcio cost: the most a Python gRPC server
can answer that client on this machine.

By default it is grpcio's sync server (a thread pool of ``THREADS``, the handlers plain
functions), as ``nuserve serve --grpc-port`` runs it: on this machine it costs about 1.4x less
CPU per small call than grpcio's asyncio server (bench/RESULTS.md, issue 16), so it is the
fastest bare Python gRPC server, the floor. ``--aio`` serves the same from grpcio's asyncio
server on asyncio's own loop instead (the floor nuserve had when its gRPC service ran on
grpc.aio, and what KServe and MLServer run on).

Run: ``python bench/bare_grpc.py PORT [--aio]`` (stops on SIGTERM or SIGINT).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import numpy as np
from grpc import aio

from nuserve.serve.oip_grpc import grpc_predict_v2_pb2 as pb
from nuserve.serve.oip_grpc import grpc_predict_v2_pb2_grpc as pb_grpc

ANSWER = pb.ModelInferResponse(
    model_name="mean",
    id="bare",
    outputs=[pb.ModelInferResponse.InferOutputTensor(name="output-0", datatype="FP64", shape=[1])],
    raw_output_contents=[np.array([1.0]).tobytes()],
)
OPTIONS = [
    ("grpc.max_receive_message_length", 200 * 1024 * 1024),
    ("grpc.max_send_message_length", -1),
]
THREADS = 2
"""The sync server's threads: nuserve's default (``grpc_service.THREADS``)."""


class Bare(pb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    def ServerLive(self, request: Any, context: Any) -> Any:
        return pb.ServerLiveResponse(live=True)

    def ServerReady(self, request: Any, context: Any) -> Any:
        return pb.ServerReadyResponse(ready=True)

    def ModelReady(self, request: Any, context: Any) -> Any:
        return pb.ModelReadyResponse(ready=True)

    def ModelInfer(self, request: Any, context: Any) -> Any:
        return ANSWER


class BareAio(pb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    async def ServerLive(self, request: Any, context: Any) -> Any:
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request: Any, context: Any) -> Any:
        return pb.ServerReadyResponse(ready=True)

    async def ModelReady(self, request: Any, context: Any) -> Any:
        return pb.ModelReadyResponse(ready=True)

    async def ModelInfer(self, request: Any, context: Any) -> Any:
        return ANSWER


def serve(port: int) -> None:
    server = grpc.server(ThreadPoolExecutor(THREADS), options=OPTIONS)
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(Bare(), server)
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"bare_grpc: cannot bind 127.0.0.1:{port}")
    server.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()


async def serve_aio(port: int) -> None:
    server = aio.server(options=OPTIONS)
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(BareAio(), server)
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"bare_grpc: cannot bind 127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(grace=1)


if __name__ == "__main__":
    if "--aio" in sys.argv[2:]:
        asyncio.run(serve_aio(int(sys.argv[1])))
    else:
        serve(int(sys.argv[1]))
