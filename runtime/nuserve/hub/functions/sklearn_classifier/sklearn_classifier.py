"""hub://sklearn-classifier: serve a scikit-learn classifier.

``model_path``: a model file saved with cloudpickle (or pickle) ending in ``.pkl``, or an
artifact directory holding one. The model file is the function owner's artifact; request data
is never unpickled. ``POST .../infer`` with ``{"inputs": [[features], ...]}`` answers the
predicted classes; ``POST .../proba`` the class probabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from cloudpickle import load

from nuserve.event import Event
from nuserve.model.v2_model_server import V2ModelServer


class SklearnClassifier(V2ModelServer):
    """A fitted scikit-learn estimator with ``predict`` (and ``predict_proba`` for proba)."""

    def load(self) -> None:
        model_file, _extra = self.get_model(".pkl")
        with open(model_file, "rb") as file:
            self.model = load(file)

    def predict(self, request: dict[str, Any]) -> list[Any]:
        return list(self.model.predict(np.asarray(request["inputs"])).tolist())

    def op_proba(self, event: Event) -> dict[str, Any]:
        """``POST /v2/models/<name>/proba``: the probability of each class, per row."""
        body = event.body if isinstance(event.body, dict) else {}
        rows = np.asarray(body.get("inputs", []))
        return {"outputs": self.model.predict_proba(rows).tolist()}
