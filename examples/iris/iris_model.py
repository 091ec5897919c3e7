"""The iris model class: what an ML engineer writes to serve a model with nuserve."""

from __future__ import annotations

from typing import Any

import numpy as np
from cloudpickle import load

import nuserve


class IrisClassifier(nuserve.V2ModelServer):
    """Serves a scikit-learn classifier saved as an artifact directory (model.pkl + spec)."""

    def load(self) -> None:
        model_file, _extra_data = self.get_model(".pkl")
        with open(model_file, "rb") as f:
            self.model = load(f)

    def predict(self, request: dict[str, Any]) -> list[Any]:
        features = np.asarray(request["inputs"])
        return self.model.predict(features).tolist()

    def op_labels(self, event: nuserve.Event) -> dict[str, Any]:
        """``POST /v2/models/iris/labels``: the class names behind the predicted numbers."""
        spec = self.model_spec
        return {"labels": spec.labels.get("classes", []) if spec else []}
