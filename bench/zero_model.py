"""The zero model of bench/framework_cost.py: ``predict`` answers zeros, so a request's cost is
the framework's (a code file, so ``init_context`` finds it)."""

from __future__ import annotations

from typing import Any

import nuserve


class Zero(nuserve.V2ModelServer):
    """One zero per input row."""

    def load(self) -> None:
        self.model = "zero"

    def predict(self, request: dict[str, Any]) -> Any:
        return [0] * len(request["inputs"])
