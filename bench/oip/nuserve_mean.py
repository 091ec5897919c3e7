"""nuserve's model for bench/oip_binary.py: the mean of its one tensor."""

from __future__ import annotations

from typing import Any

import numpy as np

import nuserve


class Mean(nuserve.V2ModelServer):
    def load(self) -> None:
        self.model = "mean"

    def predict(self, request: dict[str, Any]) -> Any:
        return np.array([float(np.asarray(request["inputs"]).mean())])
