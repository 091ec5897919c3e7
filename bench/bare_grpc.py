"""The floor for the gRPC benchmark: a bare grpcio asyncio server, no model, no graph.

The same OIP service (``inference.GRPCInferenceService``, nuserve's generated stubs of
``grpc_predict_v2.proto``) on grpcio's asyncio server, on asyncio's own loop as
``nuserve serve --grpc-port`` runs it, with the options nuserve sets. ``ModelInfer`` reads
nothing of the request and answers one fixed, prebuilt ``ModelInferResponse`` (a one-value
FP64 raw output, what bench/oip_binary.py's mean model answers); ``ServerReady`` and
``ModelReady`` say yes. What a client gets from it is what the client and grpcio cost: the
most any Python gRPC server can answer that client on this machine.

Run: ``python bench/bare_grpc.py PORT`` (stops on SIGTERM or SIGINT).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

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


class Bare(pb_grpc.GRPCInferenceServiceServicer):  # type: ignore[misc]
    async def ServerLive(self, request: Any, context: Any) -> Any:
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request: Any, context: Any) -> Any:
        return pb.ServerReadyResponse(ready=True)

    async def ModelReady(self, request: Any, context: Any) -> Any:
        return pb.ModelReadyResponse(ready=True)

    async def ModelInfer(self, request: Any, context: Any) -> Any:
        return ANSWER


async def serve(port: int) -> None:
    server = aio.server(
        options=[
            ("grpc.max_receive_message_length", 200 * 1024 * 1024),
            ("grpc.max_send_message_length", -1),
        ]
    )
    pb_grpc.add_GRPCInferenceServiceServicer_to_server(Bare(), server)
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
    asyncio.run(serve(int(sys.argv[1])))
