"""Hub item sklearn-classifier: a scikit-learn model from a pickle or joblib file."""

from __future__ import annotations

import pickle
from typing import Any

from nuserve.model.v2_model_server import V2ModelServer


class SklearnModelServer(V2ModelServer):
    """Loads ``model_path`` (``.pkl`` or ``.joblib``) and answers ``predict(inputs)``."""

    def load(self) -> None:
        path, _ = self.get_model()
        if path.endswith(".joblib"):
            import joblib  # type: ignore[import-untyped]  # noqa: PLC0415 - joblib files only

            self.model = joblib.load(path)
            return
        with open(path, "rb") as file:
            # the model file is the function author's own artifact, named in the spec
            self.model = pickle.load(file)  # noqa: S301

    def predict(self, request: dict[str, Any]) -> Any:
        return self.model.predict(request["inputs"]).tolist()
