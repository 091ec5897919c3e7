"""``ModelInferRequest`` → OIP body: what a gRPC client can get wrong is a 400 naming it; the
answer as tensors makes the message the binary body made."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nuserve
from nuserve.errors import BadRequest, ConfigError
from nuserve.event import Event, Response
from nuserve.protocols.binary_header import BINARY_HEADER, Tensors
from nuserve.serve.grpc_service import (
    THREADS,
    infer_body,
    infer_response,
    model_prefix,
    thread_count,
)
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


class Outputs(nuserve.V2ModelServer):
    """Answers what ``OUTPUTS[<first input value>]`` holds: one array, several named outputs
    (numbers and strings), or tensors encoded already."""

    def predict(self, request: dict[str, Any]) -> Any:
        return OUTPUTS[int(np.asarray(request["inputs"]).reshape(-1)[0])]


class NewParameters(Outputs):
    """Replaces the request's ``parameters`` with a plain dict (the answer is then the binary
    body, not ``Tensors``)."""

    def preprocess(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        request["parameters"] = dict(request["parameters"])
        return request


OUTPUTS: list[Any] = [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    {"a": np.array([1, -2], np.int64), "b": ["x", "yz"], "c": 2.5},
    [{"name": "e", "datatype": "FP16", "shape": [1, 2], "data": [1, 2]}],
    np.array([[True, False]]),
]


def served(model: type[nuserve.V2ModelServer]) -> GraphServer:
    fn = nuserve.new_function("t")
    fn.add_model("m", class_name=model.__name__)
    spec = ServingSpec.from_dict(fn.spec.serving_spec().to_dict())
    return GraphServer(spec, namespaces=[("this test", globals())]).start()


def ask(server: GraphServer, case: int, *outputs: str) -> tuple[Response, pb.ModelInferResponse]:
    req = request(("x", "INT64", [1]))
    req.raw_input_contents.append(np.array([case], np.int64).tobytes())
    for name in outputs:
        req.outputs.add(name=name)
    response = server.run(Event(infer_body(req), "/v2/models/m/infer", "POST"))
    return response, infer_response(response)


@pytest.mark.parametrize(("case", "outputs"), [(0, ()), (1, ()), (1, ("c", "a")), (2, ()), (3, ())])
def test_the_tensor_answer_is_the_binary_answer(case: int, outputs: tuple[str, ...]) -> None:
    """The answer to ``infer_body``'s request comes as ``Tensors`` (no binary body written and
    read back) and makes the message the binary body made; a hook that swaps the parameters
    for a plain dict gets the binary body, read into the same message."""
    server, plain = served(Outputs), served(NewParameters)
    try:
        tensors, answer = ask(server, case, *outputs)
        binary, expected = ask(plain, case, *outputs)
    finally:
        server.close()
        plain.close()
    assert type(tensors.body) is Tensors
    assert type(binary.body) is bytes and BINARY_HEADER in binary.headers
    assert (answer.model_name, answer.id) == ("m", "r1")
    expected.id = answer.id
    assert answer == expected
    names = [o.name for o in answer.outputs]
    assert names == (
        list(outputs) or {0: ["output-0"], 1: ["a", "b", "c"], 2: ["e"]}.get(case, ["output-0"])
    )
    parsed = {
        o.name: (o.datatype, list(o.shape), raw)
        for o, raw in zip(answer.outputs, answer.raw_output_contents, strict=True)
    }
    if case == 0:
        assert parsed["output-0"] == ("FP32", [2, 3], OUTPUTS[0].tobytes())
    if case == 1:
        assert parsed["a"] == ("INT64", [2], np.array([1, -2], np.int64).tobytes())
        if not outputs:
            assert parsed["b"] == ("BYTES", [2], b"\x01\x00\x00\x00x\x02\x00\x00\x00yz")
        assert parsed["c"] == ("FP64", [], np.float64(2.5).tobytes())
    if case == 2:
        assert parsed["e"] == ("FP16", [1, 2], np.array([1, 2], np.float16).tobytes())
    if case == 3:
        assert parsed["output-0"] == ("BOOL", [1, 2], b"\x01\x00")


def test_errors_of_raw_inputs_are_worded_as_for_http() -> None:
    """``decode_raw`` takes the common case alone; what is wrong is worded by
    ``decode_binary``, as for the HTTP binary extension."""
    cases = [
        (
            ("x", "FP32", [2]),
            b"\x00" * 4,
            r"input 'x': binary_data_size is 4 bytes but shape \[2\] of FP32 needs 8",
        ),
        (
            ("x", "FP32", [-1, 2]),
            b"\x00" * 8,
            r"input 'x': shape must be a list of non-negative integers, got \[-1, 2\]",
        ),
        (("x", "INT9", [1]), b"\x00", "input 'x': unknown datatype 'INT9'"),
        (
            ("s", "BYTES", [1]),
            b"\x05\x00\x00\x00ab",
            "input 's': BYTES element 0 says 5 bytes but only 2",
        ),
    ]
    for tensor, raw, message in cases:
        req = request(tensor)
        req.raw_input_contents.append(raw)
        with pytest.raises(BadRequest, match=message):
            infer_body(req)
    req = request(("s", "BYTES", [2]), ("z", "FP64", [0, 3]))
    req.raw_input_contents.extend([b"\x01\x00\x00\x00a\x00\x00\x00\x00", b""])
    inputs = infer_body(req)["inputs"]
    assert inputs[0]["data"].tolist() == [b"a", b""]
    assert inputs[1]["data"].dtype == np.float64 and inputs[1]["data"].size == 0
