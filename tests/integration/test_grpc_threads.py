"""Where ``nuserve serve --grpc-port`` answers a call: a sync graph in the gRPC thread, an async
one (async hooks, adaptive batching) on the worker's event loop, beside HTTP requests; counts
that HTTP and gRPC make together, a failing model, and the stop on shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import orjson
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as aioclient
from tritonclient.utils import InferenceServerException

from tests.serve_models import Served, free_port, request, serve, write_function_yaml

pytestmark = pytest.mark.integration
MODELS = {
    "echo": "tests.serve_models.CountingEcho",
    "where": "tests.serve_models.ThreadName",
    "fail": "tests.serve_models.Failing",
}


def tensor(values: list[int], name: str = "x") -> grpcclient.InferInput:
    x = grpcclient.InferInput(name, [len(values)], "INT64")
    x.set_data_from_numpy(np.array(values, dtype=np.int64))
    return x


@pytest.fixture(scope="module")
def sync_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, int]]:
    spec = write_function_yaml(tmp_path_factory.mktemp("sync") / "function.yaml", MODELS)
    port = free_port()
    with serve(spec, workers=1, args=["--grpc-port", str(port)]) as server:
        yield server, port


def test_a_sync_graph_is_answered_in_the_grpc_thread(sync_graph: tuple[Served, int]) -> None:
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{sync_graph[1]}")
    try:
        result = client.infer("where", [tensor([3, 4])])
    finally:
        client.close()
    assert result.as_numpy("echo").tolist() == [3, 4]
    assert result.as_numpy("thread")[0].decode().startswith("nuserve-grpc")
    status, body = request(
        sync_graph[0].port, "POST", "/v2/models/where/infer",
        orjson.dumps({"inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [1]}]}),
    )  # fmt: skip
    assert status == 200
    outputs = {o["name"]: o["data"] for o in orjson.loads(body)["outputs"]}
    assert outputs["thread"] == ["MainThread"]  # HTTP: the worker's loop


def test_http_and_grpc_together_count_every_call(sync_graph: tuple[Served, int]) -> None:
    """Calls counted at once by the loop thread (HTTP) and the gRPC threads: none lost."""
    served, port = sync_graph
    before = served.counted("echo", "infer")
    calls = 300
    body = orjson.dumps({"inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [7]}]})

    def http_calls() -> list[int]:
        return [
            request(served.port, "POST", "/v2/models/echo/infer", body)[0] for _ in range(calls)
        ]

    async def grpc_calls() -> list[list[int]]:
        client = aioclient.InferenceServerClient(f"127.0.0.1:{port}")
        try:
            x = aioclient.InferInput("x", [1], "INT64")
            x.set_data_from_numpy(np.array([7]))
            answers = []
            for _ in range(calls // 10):
                batch = await asyncio.gather(*(client.infer("echo", [x]) for _ in range(10)))
                answers += [a.as_numpy("output-0").tolist() for a in batch]
            return answers
        finally:
            await client.close()

    with ThreadPoolExecutor(2) as pool:
        http = [pool.submit(http_calls) for _ in range(2)]
        answers = asyncio.run(asyncio.wait_for(grpc_calls(), 120))
        statuses = [s for f in http for s in f.result()]
    assert answers == [[7]] * calls and statuses == [200] * (2 * calls)
    assert served.counted("echo", "infer") - before == 3 * calls


def test_a_failing_model_is_internal_and_the_server_keeps_serving(
    sync_graph: tuple[Served, int],
) -> None:
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{sync_graph[1]}")
    try:
        for _ in range(3):  # the handler thread survives each failure
            with pytest.raises(InferenceServerException) as err:
                client.infer("fail", [tensor([1])])
            assert err.value.status() == "StatusCode.INTERNAL"
            assert "model 'fail' raised in infer: ValueError: the model is broken" in (
                err.value.message() or ""
            )
        assert client.infer("echo", [tensor([5])]).as_numpy("output-0").tolist() == [5]
    finally:
        client.close()
    status, _ = request(sync_graph[0].port, "GET", "/v2/health/ready")
    assert status == 200
    assert sync_graph[0].counted("fail", "infer") >= 3


def test_async_and_batching_models_are_answered_on_the_loop(tmp_path: Path) -> None:
    spec = write_function_yaml(
        tmp_path / "function.yaml",
        {
            "echo": MODELS["echo"],
            "where": "tests.serve_models.AsyncThreadName",
            "batched": "tests.serve_models.BatchedEcho",
        },
        model_args={"batched": {"max_batch_size": 8, "max_batch_time_ms": 50}},
    )
    port = free_port()
    with serve(spec, workers=1, args=["--grpc-port", str(port)]) as served:
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
        try:
            result = client.infer("where", [tensor([3, 4])])
        finally:
            client.close()
        assert result.as_numpy("echo").tolist() == [3, 4]
        assert result.as_numpy("thread")[0].decode() == "MainThread"  # the worker's loop

        async def batched() -> list[list[int]]:
            aio = aioclient.InferenceServerClient(f"127.0.0.1:{port}")
            try:
                inputs = []
                for i in range(8):
                    x = aioclient.InferInput("x", [1, 2], "INT64")
                    x.set_data_from_numpy(np.array([[i, -i]]))
                    inputs.append(x)
                answers = await asyncio.gather(*(aio.infer("batched", [x]) for x in inputs))
                return [a.as_numpy("output-0").tolist() for a in answers]
            finally:
                await aio.close()

        answers = asyncio.run(asyncio.wait_for(batched(), 60))
        assert answers == [[[i, -i]] for i in range(8)]  # each call its own rows back
        sizes = [int(line.split()[1]) for line in served.calls_seen() if line.startswith("batch")]
        assert sum(sizes) == 8 and max(sizes) > 1, sizes  # merged across gRPC calls


def test_shutdown_lets_a_running_call_end_then_stops_the_grpc_server(tmp_path: Path) -> None:
    spec = write_function_yaml(
        tmp_path / "function.yaml",
        {"echo": MODELS["echo"], "slow": "tests.serve_models.Slow"},
        env={"NUSERVE_TEST_SLOW": "1.5"},
    )
    port = free_port()
    with serve(spec, workers=1, args=["--grpc-port", str(port)]) as served:
        answer: dict[str, Any] = {}

        def slow_call() -> None:
            client = grpcclient.InferenceServerClient(f"127.0.0.1:{port}")
            try:
                answer["value"] = client.infer("slow", [tensor([9])]).as_numpy("output-0").tolist()
            except InferenceServerException as exc:  # pragma: no cover - the failure shown
                answer["error"] = exc
            finally:
                client.close()

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.5)  # the call is running in the model
        began = time.monotonic()
        os.kill(served.process.pid, signal.SIGTERM)
        caller.join(30)
        assert answer == {"value": [9]}  # answered within the grace period
        served.process.wait(30)
        took = time.monotonic() - began
        assert served.process.returncode == 0, served.log.read_text()
        assert took < 10
        with (
            grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
            pytest.raises(grpc.FutureTimeoutError),
        ):
            grpc.channel_ready_future(channel).result(timeout=1)
