"""KServe v1: ``{"instances": [...]}`` on ``/v1/models/<m>:predict`` → ``{"predictions": [...]}``.

The instances reach the model as ``request["inputs"]`` so a class written for MLRun rows
serves v1 clients unchanged.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import BadRequest
from nuserve.protocols.base import Protocol


class KServeV1Protocol(Protocol):
    name = "kserve-v1"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        instances = body.get("instances")
        if not isinstance(instances, list):
            got = "no 'instances' key" if instances is None else f"{type(instances).__name__}"
            raise BadRequest(
                f"KServe v1 request needs 'instances' as a list (got {got}); "
                'send {"instances": [[...], ...]}'
            )
        request = dict(body)
        request["inputs"] = instances
        return request

    def encode(self, response: dict[str, Any], request: dict[str, Any]) -> Any:
        return {"predictions": response.get("outputs")}


KSERVE_V1 = KServeV1Protocol()
