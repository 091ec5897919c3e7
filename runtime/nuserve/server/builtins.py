"""The classes a spec may name bare (``class_name="VotingEnsemble"``): nuserve's own.

Each is imported when a spec names it: a served graph of plain models does not load the
LLM, bandit, ensemble, parallel, remote and weighted routers (``nuserve serve``'s start-up
and memory, bench/cold_start.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

MODULES: dict[str, str] = {
    "BaseRouter": "nuserve.routers.base",
    "EpsilonGreedyRouter": "nuserve.routers.bandit",
    "LLModel": "nuserve.llm.model",
    "ModelRouter": "nuserve.routers.router",
    "ParallelRun": "nuserve.routers.parallel",
    "RemoteModel": "nuserve.routers.remote",
    "Step": "nuserve.graph.steps",
    "ThompsonSamplingRouter": "nuserve.routers.bandit",
    "V2ModelServer": "nuserve.model.v2_model_server",
    "VotingEnsemble": "nuserve.routers.ensemble",
    "WeightedRouter": "nuserve.routers.weighted",
}
"""Bare name → the module that defines it."""


class Builtins(Mapping[str, Any]):
    """``MODULES``' classes, each imported on first lookup."""

    def __getitem__(self, name: str) -> Any:
        module = MODULES[name]  # KeyError for any other name, as a dict would
        return getattr(importlib.import_module(module), name)

    def __iter__(self) -> Iterator[str]:
        return iter(MODULES)

    def __len__(self) -> int:
        return len(MODULES)

    def __contains__(self, name: object) -> bool:
        return name in MODULES


BUILTINS: Mapping[str, Any] = Builtins()
