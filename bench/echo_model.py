"""The echo model the in-process benchmarks serve (a code file, so ``init_context`` finds it)."""

from __future__ import annotations

from typing import Any

import nuserve


class Echo(nuserve.V2ModelServer):
    """Answers the request's inputs: a model that costs nothing, so what is left is overhead."""

    def load(self) -> None:
        self.model = "echo"

    def predict(self, request: dict[str, Any]) -> Any:
        return request["inputs"]
