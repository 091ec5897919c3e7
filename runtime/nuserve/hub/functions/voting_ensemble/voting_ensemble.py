"""hub://voting-ensemble: several scikit-learn models voting on each row.

The router is nuserve's ``VotingEnsemble`` (``vote_type``: ``classification`` or
``regression``; optional ``weights``); add its members with
``fn.add_model("a", class_name="EnsembleMember", model_path="a.pkl")``, then
``POST /v2/models/ensemble/infer`` answers the vote.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from cloudpickle import load

from nuserve.model.v2_model_server import V2ModelServer


class EnsembleMember(V2ModelServer):
    """One voter: a fitted estimator saved with cloudpickle (``.pkl``)."""

    def load(self) -> None:
        model_file, _extra = self.get_model(".pkl")
        with open(model_file, "rb") as file:
            self.model = load(file)

    def predict(self, request: dict[str, Any]) -> list[Any]:
        return list(self.model.predict(np.asarray(request["inputs"])).tolist())
