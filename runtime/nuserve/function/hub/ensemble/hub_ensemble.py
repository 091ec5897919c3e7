"""Hub item ensemble: scikit-learn models voting (classification) in a VotingEnsemble."""

from __future__ import annotations

import pickle
from typing import Any

from nuserve.model.v2_model_server import V2ModelServer


class EnsembleSklearnModel(V2ModelServer):
    """One voter: a pickled scikit-learn model."""

    def load(self) -> None:
        path, _ = self.get_model()
        with open(path, "rb") as file:
            self.model = pickle.load(file)  # noqa: S301 - the function author's artifact

    def predict(self, request: dict[str, Any]) -> Any:
        return self.model.predict(request["inputs"]).tolist()
