"""``ModelInferRequest`` → OIP body: what a gRPC client can get wrong is a 400 naming it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nuserve
from nuserve.errors import BadRequest, ConfigError
from nuserve.serve.grpc_service import THREADS, infer_body, model_prefix, thread_count
from nuserve.serve.oip_grpc import grpc_predict_v2_pb2 as pb
from nuserve.server.graph_server import GraphServer
from nuserve.spec.serving import ServingSpec


def request(*tensors: tuple[str, str, list[int]]) -> pb.ModelInferRequest:
    req = pb.ModelInferRequest(model_name="m", id="r1")
    for name, datatype, shape in tensors:
        req.inputs.add(name=name, datatype=datatype, shape=shape)
    return req


def test_raw_inputs_become_views_and_the_answer_is_asked_binary() -> None:
    req = request(("x", "FP32", [2]))
    req.raw_input_contents.append(np.array([1.5, 2.5], np.float32).tobytes())
    req.outputs.add(name="y")
    body = infer_body(req)
    assert body["inputs"][0]["data"].tolist() == [1.5, 2.5]
    assert body["parameters"] == {"binary_data_output": True}
    assert (body["id"], body["outputs"]) == ("r1", [{"name": "y"}])


def test_typed_contents_become_lists_the_codec_checks() -> None:
    req = request(("i", "INT64", [2]), ("s", "BYTES", [1]))
    req.inputs[0].contents.int64_contents.extend([1, 2])
    req.inputs[1].contents.bytes_contents.append(b"ab")
    body = infer_body(req)
    assert [t["data"] for t in body["inputs"]] == [[1, 2], [b"ab"]]


def test_what_a_client_gets_wrong() -> None:
    req = request(("a", "FP32", [1]), ("b", "FP32", [1]))
    req.raw_input_contents.append(b"\x00" * 4)
    with pytest.raises(
        BadRequest, match="raw_input_contents has 1 entries but the request has 2 inputs"
    ):
        infer_body(req)
    with pytest.raises(
        BadRequest,
        match=r"input 'h': datatype 'FP16' has no typed contents; send it in raw_input_contents",
    ):
        infer_body(request(("h", "FP16", [1])))
    assert model_prefix("m", "") == "/v2/models/m"
    assert model_prefix("m", "2") == "/v2/models/m/versions/2"


def graph_server(configure: Any) -> GraphServer:
    fn = nuserve.new_function("t")
    configure(fn)
    return GraphServer(ServingSpec.from_dict(fn.spec.serving_spec().to_dict())).start()


@pytest.mark.parametrize(
    ("configure", "needs"),
    [
        (lambda fn: fn.add_model("m", class_name="tests.serve_models.CountingEcho"), False),
        (lambda fn: fn.add_model("m", class_name="tests.serve_models.AsyncThreadName"), True),
        (
            lambda fn: fn.add_model(
                "m", class_name="tests.serve_models.BatchedEcho", max_batch_size=4
            ),
            True,
        ),
        (
            lambda fn: (
                fn.add_model("m", class_name="tests.serve_models.CountingEcho"),
                fn.set_streaming(True),
            ),
            True,
        ),
        (lambda fn: fn.set_topology("flow", engine="async").to(handler="json.dumps"), True),
        (lambda fn: fn.set_topology("flow", engine="sync").to(handler="json.dumps"), False),
    ],
    ids=["sync model", "async hooks", "batching", "streaming", "async flow", "sync flow"],
)
def test_which_graphs_need_the_loop(configure: Any, needs: bool) -> None:
    """Decided once per graph: a sync one is answered in the gRPC thread, others on the loop."""
    server = graph_server(configure)
    try:
        assert server.needs_loop() is needs
    finally:
        server.close()


def test_the_thread_count_setting() -> None:
    assert thread_count(None) == thread_count("") == THREADS
    assert thread_count("4") == 4
    for bad in ("0", "-1", "many", "65"):
        with pytest.raises(ConfigError, match="NUSERVE_GRPC_THREADS"):
            thread_count(bad)
