"""Open Inference Protocol v2 bodies, built on the tensor codec in ``oip``.

The codec (and numpy) is imported on the first OIP request, so serving MLRun rows never
pays for it and ``import nuserve`` stays light.
"""

from __future__ import annotations

from typing import Any

from nuserve.protocols.base import Protocol


class OIPProtocol(Protocol):
    """The model sees ``request["inputs"]`` as one numpy array, or a name → array dict."""

    name = "oip"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        from nuserve.protocols.oip import decode_inputs  # noqa: PLC0415 - see the docstring

        request = dict(body)
        request["inputs"] = decode_inputs(body)
        return request

    def encode(self, response: dict[str, Any], request: dict[str, Any]) -> Any:
        body: dict[str, Any] = {"id": response.get("id"), "model_name": response.get("model_name")}
        if response.get("model_version"):
            body["model_version"] = response["model_version"]
        if response.get("parameters"):
            body["parameters"] = response["parameters"]
        from nuserve.protocols.oip import encode_outputs  # noqa: PLC0415 - see the docstring

        body["outputs"] = encode_outputs(response.get("outputs"), request.get("outputs"))
        return body


OIP = OIPProtocol()
