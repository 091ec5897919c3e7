"""VotingEnsemble: every model predicts; the ensemble answers their weighted vote, per row.

- classification: the class with the largest total weight wins; a tie goes to the lowest
  class (the smallest number, or the first string in sort order);
- regression: the weighted mean, ``sum(w_i * p_i) / sum(w_i)`` (MLRun's VotingEnsemble
  answered the weighted sum: four models answering 1000, 1000, 1000 and 2000 with weights
  all 1 gave 5000 where the mean is 1250);
- the vote type, when not given, is inferred per request: classification when the models
  answer integers, booleans or strings, regression as soon as one answers floats.

Weights are normalised whatever their sum, so 0.5, 1 and 3 per model vote alike. A failing
model fails the request (status and message of that model): a vote without one of its voters
would silently change the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import ConfigError, ModelError
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.fanout import outputs_of
from nuserve.routers.parallel import ParallelRun
from nuserve.routers.weights import normalise_weights

VOTE_TYPES = ("classification", "regression")
TIE_TOLERANCE = 1e-9
"""Class scores this close (weights sum to 1) are a tie: 0.1 + 0.2 ties with 0.3."""
LABEL_KINDS = frozenset("biuUS")
"""numpy dtype kinds of class labels: bool, signed and unsigned integers, strings."""


class VotingEnsemble(ParallelRun):
    """The weighted vote of all its models (MLRun's ``VotingEnsemble``, votes fixed)."""

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        vote_type: str | None = None,
        weights: dict[str, float] | None = None,
        prediction_col_name: str | None = None,
        return_children: bool = False,
        **class_args: Any,
    ) -> None:
        """
        :param vote_type: ``classification``, ``regression`` or ``None`` (inferred per request).
        :param weights: route key → weight (≥ 0, any sum); ``None`` weighs models equally.
        :param prediction_col_name: the key holding the predictions when models answer a
            dict (or rows of dicts); default ``prediction``.
        :param return_children: add each model's outputs to the answer as ``children``.
        """
        super().__init__(context, name, routes, **class_args)
        if vote_type not in (None, *VOTE_TYPES):
            raise ConfigError(
                f"VotingEnsemble '{self.name}': vote_type must be 'classification', "
                f"'regression' or None to infer it (got {vote_type!r})"
            )
        self.vote_type = vote_type
        self.weights_arg = weights
        self.prediction_col_name = prediction_col_name or "prediction"
        self.return_children = bool(return_children)
        self.weights: dict[str, float] = {}
        """Normalised weights (summing to 1), set by ``check`` once the routes are known."""

    def check(self) -> None:
        owner = f"VotingEnsemble '{self.name}'"
        self.weights = normalise_weights(self.weights_arg, self.routes, owner, "weights")

    def merge(self, event: Event, request: dict[str, Any], results: dict[str, Any]) -> Any:
        predictions = [self.predictions(key, outputs) for key, outputs in results.items()]
        weights = [self.weights[key] for key in results]
        return vote(predictions, weights, self.vote_type, list(results))

    def predictions(self, key: str, outputs: Any) -> Any:
        """A model's predictions: its outputs, or their ``prediction_col_name`` column."""
        column = self.prediction_col_name
        if isinstance(outputs, dict):
            if column not in outputs:
                raise ModelError(
                    f"model '{key}' answered a dict without {column!r} (keys: "
                    f"{', '.join(map(str, outputs))}); set prediction_col_name= of "
                    f"VotingEnsemble '{self.name}' to the key holding the predictions"
                )
            return outputs[column]
        if type(outputs) is list and outputs and type(outputs[0]) is dict:
            try:
                return [row[column] for row in outputs]
            except (KeyError, TypeError):
                raise ModelError(
                    f"model '{key}' answered rows without {column!r}; set prediction_col_name="
                    f" of VotingEnsemble '{self.name}' to the key holding the predictions"
                ) from None
        return outputs

    def respond(
        self,
        event: Event,
        request: dict[str, Any],
        replies: dict[str, Response],
        outputs: Any,
    ) -> dict[str, Any]:
        response = super().respond(event, request, replies, outputs)
        if self.return_children:
            response["children"] = {key: outputs_of(reply) for key, reply in replies.items()}
        return response

    def describe(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "routes": list(self.routes),
            "vote_type": self.vote_type or "inferred",
            "weights": dict(self.weights),
            "prediction_col_name": self.prediction_col_name,
        }


def vote(
    predictions: Sequence[Any],
    weights: Sequence[float],
    vote_type: str | None = None,
    names: Sequence[str] | None = None,
) -> Any:
    """The weighted vote of same-shaped predictions (one per model), element by element."""
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    names = list(names or (f"#{i}" for i in range(len(predictions))))
    try:
        stacked = np.array(predictions)
    except ValueError:  # ragged: models answered different shapes
        stacked = np.array(None)
    if stacked.ndim == 0 or stacked.dtype.kind not in "biufUS":
        got = ", ".join(f"'{n}': {_describe(p)}" for n, p in zip(names, predictions, strict=True))
        raise ModelError(
            f"the models' predictions cannot be voted on ({got}); every model must answer "
            "the same number of numbers or labels per row"
        )
    share = np.asarray(weights, dtype=float)
    total = share.sum()
    if total <= 0:
        raise ModelError(f"the models that answered ({', '.join(names)}) all have weight 0")
    share = share / total
    flat = stacked.reshape(len(share), -1)
    kind = vote_type or ("classification" if stacked.dtype.kind in LABEL_KINDS else "regression")
    if kind == "regression":
        if stacked.dtype.kind not in "biuf":
            raise ModelError(f"regression votes need numbers; the models answered {stacked.dtype}")
        return (share @ flat.astype(float)).reshape(stacked.shape[1:]).tolist()
    labels = np.unique(flat)
    index = np.searchsorted(labels, flat)  # (models, elements) → label number
    size, count = flat.shape[1], len(labels)
    cells = (index + np.arange(size) * count).ravel()
    scores = np.bincount(cells, np.repeat(share, size), size * count).reshape(size, count)
    best = scores.max(axis=1, keepdims=True)
    winners = np.argmax(scores >= best - TIE_TOLERANCE, axis=1)  # first = lowest label
    return labels[winners].reshape(stacked.shape[1:]).tolist()


def _describe(prediction: Any) -> str:
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    try:
        array = np.asarray(prediction)
    except ValueError:
        return "ragged rows"
    return f"shape {list(array.shape)} of {array.dtype}"
