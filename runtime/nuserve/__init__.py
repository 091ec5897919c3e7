"""nuserve: a fast model-serving runtime for Nuclio with MLRun's serving API."""

from nuserve import errors as errors
from nuserve.context import ServingContext
from nuserve.errors import (
    BadGateway,
    BadRequest,
    ConfigError,
    MethodNotAllowed,
    MLRunBaseError,
    MLRunInvalidArgumentError,
    MLRunNotFoundError,
    MLRunRuntimeError,
    ModelError,
    NotFound,
    NotReady,
    NuserveError,
    PayloadTooLarge,
    RemoteTimeout,
    RequestTimeout,
)
from nuserve.event import Event, Response
from nuserve.function.imports import import_function
from nuserve.function.serving_function import ServingFunction, code_to_function, new_function
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
from nuserve.server.graph_server import GraphServer
from nuserve.version import __version__ as __version__

__all__ = [
    "BadGateway",
    "BadRequest",
    "BaseRouter",
    "ConfigError",
    "EpsilonGreedyRouter",
    "Event",
    "GraphServer",
    "LLModel",
    "MLRunBaseError",
    "MLRunInvalidArgumentError",
    "MLRunNotFoundError",
    "MLRunRuntimeError",
    "MethodNotAllowed",
    "ModelError",
    "ModelRouter",
    "NotFound",
    "NotReady",
    "NuserveError",
    "ParallelRun",
    "PayloadTooLarge",
    "RemoteModel",
    "RemoteTimeout",
    "RequestTimeout",
    "Response",
    "ServingContext",
    "ServingFunction",
    "Step",
    "ThompsonSamplingRouter",
    "V2ModelServer",
    "VotingEnsemble",
    "WeightedRouter",
    "code_to_function",
    "import_function",
    "new_function",
]


def __getattr__(name: str) -> object:
    """MLRun's module names, imported on first use (``import nuserve as mlrun`` then
    ``mlrun.serving.routers...``), so ``import nuserve`` stays light."""
    if name == "serving":
        from nuserve import serving  # noqa: PLC0415

        return serving
    if name == "utils":
        from nuserve import utils  # noqa: PLC0415

        return utils
    raise AttributeError(f"module 'nuserve' has no attribute {name!r}")
