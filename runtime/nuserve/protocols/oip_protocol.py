"""Open Inference Protocol v2 bodies, built on the tensor codec in ``oip``.

The codec (and numpy) is imported on the first OIP request, so serving MLRun rows never
pays for it and ``import nuserve`` stays light; the two modules are then kept here (an
``import`` statement run per request cost 5k instructions, more than a small tensor's whole
decoding). Outputs the request asks for as binary (``binary_data_output``, or ``binary_data``
on a requested output) are sent with the binary extension (``oip_binary``): the answer is
then bytes with ``Inference-Header-Content-Length``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from nuserve.event import Response
from nuserve.protocols.base import Protocol
from nuserve.protocols.binary_header import AsTensors, Tensors

_MODULES: list[ModuleType] = []
"""``[oip, oip_binary]`` once the first OIP body has been seen."""


def _codecs() -> tuple[ModuleType, ModuleType]:
    """The tensor codec and the binary extension (``nuserve.protocols.oip``, ``oip_binary``),
    imported on the first call."""
    if not _MODULES:
        from nuserve.protocols import oip, oip_binary  # noqa: PLC0415 - see the docstring

        _MODULES[:] = [oip, oip_binary]
    return _MODULES[0], _MODULES[1]


class OIPProtocol(Protocol):
    """The model sees ``request["inputs"]`` as one numpy array, or a name → array dict."""

    name = "oip"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        request = dict(body)
        request["inputs"] = _codecs()[0].decode_inputs(body)
        return request

    def encode(self, response: dict[str, Any], request: dict[str, Any]) -> Any:
        return self.respond(response, request).body

    def respond(
        self, response: dict[str, Any], request: dict[str, Any], output_name: str | None = None
    ) -> Response:
        oip, oip_binary = _codecs()
        if request.get("parameters").__class__ is AsTensors:
            return Response(_tensors(oip, oip_binary, response, request, output_name))
        body: dict[str, Any] = {"id": response.get("id"), "model_name": response.get("model_name")}
        if response.get("model_version"):
            body["model_version"] = response["model_version"]
        if response.get("parameters"):
            body["parameters"] = response["parameters"]
        values = oip.output_values(
            response.get("outputs"), request.get("outputs"), output_name or oip.DEFAULT_OUTPUT
        )
        binary = _binary_outputs(request, [name for name, _ in values])
        if not any(binary):
            body["outputs"] = [
                value if _encoded(value) else oip.encode_tensor(name, value)
                for name, value in values
            ]
            return Response(body)
        triples = [_triple(name, value) for name, value in values]
        data, length = oip_binary.encode_binary_body(body, triples, binary)
        return Response(
            data,
            headers={oip_binary.HEADER: str(length)},
            content_type=oip_binary.CONTENT_TYPE,
        )


def _tensors(
    oip: ModuleType,
    oip_binary: ModuleType,
    response: dict[str, Any],
    request: dict[str, Any],
    output_name: str | None,
) -> Tensors:
    """The answer to an ``AsTensors`` request: every output as bytes (``binary_tensor``), as
    the binary body would carry them, without the body. One array and no requested outputs
    (most calls) skip ``output_values``: it would answer the one output ``default_name``."""
    outputs = response.get("outputs")
    requested = request.get("outputs")
    default_name = output_name or oip.DEFAULT_OUTPUT
    binary_tensor = oip_binary.binary_tensor
    if requested is None and outputs.__class__ is oip.np.ndarray:
        tensors = [binary_tensor(default_name, outputs)]
    else:
        values = oip.output_values(outputs, requested, default_name)
        tensors = [binary_tensor(*_triple(name, value)) for name, value in values]
    return Tensors(
        response.get("id"), response.get("model_name"), response.get("model_version"), tensors
    )


def _encoded(value: object) -> bool:
    return isinstance(value, dict) and "name" in value and ("datatype" in value or "data" in value)


def _triple(name: str, value: object) -> tuple[str, object, object]:
    """``(name, value, datatype)``: an encoded tensor's data reshaped to its shape."""
    if not _encoded(value):
        return name, value, None
    assert isinstance(value, dict)
    oip = _codecs()[0]
    np = oip.np
    datatype = value.get("datatype")
    data = value.get("data")
    dtype = oip.DATATYPES.get(datatype) if isinstance(datatype, str) else None
    arr = np.asarray(data, dtype=dtype if dtype is not None and datatype != "BYTES" else None)
    if datatype == "BYTES" and arr.dtype.kind in "US":
        arr = np.asarray(data, dtype=object)
    shape = value.get("shape")
    if isinstance(shape, list):
        arr = arr.reshape(shape)
    return name, arr, datatype


def _binary_outputs(request: dict[str, Any], names: list[str]) -> list[bool]:
    """Which outputs go as bytes: ``binary_data`` on the requested output, else the
    request's ``binary_data_output``."""
    parameters = request.get("parameters")
    default = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    per_output: dict[str, bool] = {}
    outputs = request.get("outputs")
    if isinstance(outputs, list):
        for output in outputs:
            if isinstance(output, dict) and isinstance(output.get("name"), str):
                params = output.get("parameters")
                if isinstance(params, dict) and "binary_data" in params:
                    per_output[output["name"]] = params["binary_data"] is True
    return [per_output.get(name, default) for name in names]


OIP = OIPProtocol()
