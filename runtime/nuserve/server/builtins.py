"""The classes a spec may name bare (``class_name="VotingEnsemble"``): nuserve's own."""

from __future__ import annotations

from typing import Any

from nuserve.graph.steps import Step
from nuserve.llm.model import LLModel
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.bandit import EpsilonGreedyRouter, ThompsonSamplingRouter
from nuserve.routers.base import BaseRouter
from nuserve.routers.ensemble import VotingEnsemble
from nuserve.routers.parallel import ParallelRun
from nuserve.routers.remote import RemoteModel
from nuserve.routers.router import ModelRouter
from nuserve.routers.weighted import WeightedRouter

BUILTINS: dict[str, Any] = {
    cls.__name__: cls
    for cls in (
        BaseRouter,
        EpsilonGreedyRouter,
        LLModel,
        ModelRouter,
        ParallelRun,
        RemoteModel,
        Step,
        ThompsonSamplingRouter,
        V2ModelServer,
        VotingEnsemble,
        WeightedRouter,
    )
}
