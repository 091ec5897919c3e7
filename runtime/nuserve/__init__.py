"""nuserve: a fast model-serving runtime for Nuclio with MLRun's serving API."""

from typing import TYPE_CHECKING

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
from nuserve.graph.steps import Step
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.base import BaseRouter
from nuserve.routers.router import ModelRouter
from nuserve.server.graph_server import GraphServer
from nuserve.version import __version__ as __version__

if TYPE_CHECKING:
    from nuserve.function.imports import import_function
    from nuserve.function.serving_function import (
        ServingFunction,
        code_to_function,
        new_function,
    )
    from nuserve.llm.model import LLModel
    from nuserve.routers.bandit import EpsilonGreedyRouter, ThompsonSamplingRouter
    from nuserve.routers.ensemble import VotingEnsemble
    from nuserve.routers.parallel import ParallelRun
    from nuserve.routers.remote import RemoteModel
    from nuserve.routers.weighted import WeightedRouter

LAZY = {
    "import_function": "nuserve.function.imports",
    "ServingFunction": "nuserve.function.serving_function",
    "code_to_function": "nuserve.function.serving_function",
    "new_function": "nuserve.function.serving_function",
    "LLModel": "nuserve.llm.model",
    "EpsilonGreedyRouter": "nuserve.routers.bandit",
    "ThompsonSamplingRouter": "nuserve.routers.bandit",
    "VotingEnsemble": "nuserve.routers.ensemble",
    "ParallelRun": "nuserve.routers.parallel",
    "RemoteModel": "nuserve.routers.remote",
    "WeightedRouter": "nuserve.routers.weighted",
}
"""Names imported on first use: what a served graph need not load (the function builder,
the hub and notebook readers, the LLM and the other routers), kept out of ``nuserve serve``'s
start-up and memory (bench/cold_start.py)."""

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
    ``mlrun.serving.routers...``), so ``import nuserve`` stays light; so are the names in
    ``LAZY``."""
    module = LAZY.get(name)
    if module is not None:
        import importlib  # noqa: PLC0415

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if name == "serving":
        from nuserve import serving  # noqa: PLC0415

        return serving
    if name == "utils":
        from nuserve import utils  # noqa: PLC0415

        return utils
    raise AttributeError(f"module 'nuserve' has no attribute {name!r}")
