"""``mlrun.serving.routers``: the routers, and MLRun's enums of their options."""

from __future__ import annotations

from enum import StrEnum

from nuserve.routers.base import BaseRouter
from nuserve.routers.ensemble import VotingEnsemble
from nuserve.routers.parallel import ParallelRun
from nuserve.routers.router import ModelRouter


class _Values(StrEnum):
    @classmethod
    def all(cls) -> list[str]:
        return [m.value for m in cls]

    def __str__(self) -> str:
        return str(self.value)


class ParallelRunnerModes(_Values):
    """How ``ParallelRun`` runs its children: one after the other, threads, processes."""

    array = "array"
    thread = "thread"
    process = "process"


class VotingTypes(_Values):
    classification = "classification"
    regression = "regression"


class OperationTypes(_Values):
    infer = "infer"
    predict = "predict"
    explain = "explain"


__all__ = [
    "BaseRouter",
    "ModelRouter",
    "OperationTypes",
    "ParallelRun",
    "ParallelRunnerModes",
    "VotingEnsemble",
    "VotingTypes",
]
