"""KServe v1: ``{"instances": [...]}`` (or ``{"inputs": [...]}``, which KServe's v1 protocol
allows beside it) on ``/v1/models/<m>:predict`` and ``:explain`` → ``{"predictions": [...]}``
(``{"explanations": [...]}`` for explain).

The instances reach the model as ``request["inputs"]`` so a class written for MLRun rows
serves v1 clients unchanged.
"""

from __future__ import annotations

from typing import Any

from nuserve.errors import BadRequest
from nuserve.protocols.base import Protocol


class KServeV1Protocol(Protocol):
    name = "kserve-v1"
    answer_key = "predictions"

    def decode(self, body: dict[str, Any]) -> dict[str, Any]:
        key = "instances" if "instances" in body or "inputs" not in body else "inputs"
        instances = body.get(key)
        if not isinstance(instances, list):
            got = (
                "no 'instances' or 'inputs' key" if instances is None else type(instances).__name__
            )
            raise BadRequest(
                f"KServe v1 request needs '{key}' as a list (got {got}); "
                'send {"instances": [[...], ...]} or {"inputs": [[...], ...]}'
            )
        request = dict(body)
        request["inputs"] = instances
        return request

    def encode(self, response: dict[str, Any], request: dict[str, Any]) -> Any:
        return {self.answer_key: response.get("outputs")}


class KServeV1Explain(KServeV1Protocol):
    """``:explain`` answers under ``explanations``, as KServe's explainers do."""

    name = "kserve-v1-explain"
    answer_key = "explanations"


KSERVE_V1 = KServeV1Protocol()
KSERVE_V1_EXPLAIN = KServeV1Explain()
