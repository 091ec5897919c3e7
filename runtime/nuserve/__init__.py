"""nuserve: a fast model-serving runtime for Nuclio with MLRun's serving API."""

from nuserve.context import ServingContext
from nuserve.errors import (
    BadRequest,
    ConfigError,
    MethodNotAllowed,
    ModelError,
    NotFound,
    NotReady,
    NuserveError,
    PayloadTooLarge,
    RemoteTimeout,
)
from nuserve.event import Event, Response
from nuserve.function import ServingFunction, code_to_function, new_function
from nuserve.model import V2ModelServer
from nuserve.routers.router import ModelRouter
from nuserve.server import GraphServer

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "ConfigError",
    "Event",
    "GraphServer",
    "MethodNotAllowed",
    "ModelError",
    "ModelRouter",
    "NotFound",
    "NotReady",
    "NuserveError",
    "PayloadTooLarge",
    "RemoteTimeout",
    "Response",
    "ServingContext",
    "ServingFunction",
    "V2ModelServer",
    "code_to_function",
    "new_function",
]
