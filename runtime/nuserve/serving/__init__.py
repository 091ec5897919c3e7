"""MLRun's module names (``mlrun.serving``) for nuserve's objects: code written for MLRun
imports ``nuserve.serving`` (or ``import nuserve as mlrun``) and runs unchanged."""

from nuserve.context import ServingContext as GraphContext
from nuserve.graph.builder import FlowBuilder as FlowStep
from nuserve.graph.merger import Merge
from nuserve.graph.remote_step import BatchHttpRequests, RemoteStep
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.ensemble import VotingEnsemble
from nuserve.routers.parallel import ParallelRun
from nuserve.routers.router import ModelRouter
from nuserve.server.graph_server import GraphServer
from nuserve.serving import merger, remote, routers, server, states, utils, v2_serving
from nuserve.spec.states import RouterStep, TaskStep

QueueStep = TaskStep
"""MLRun's queue step description; nuserve writes queues as ``graph.to(">>", ...)``."""

__all__ = [
    "BatchHttpRequests",
    "FlowStep",
    "GraphContext",
    "GraphServer",
    "Merge",
    "ModelRouter",
    "ParallelRun",
    "QueueStep",
    "RemoteStep",
    "RouterStep",
    "TaskStep",
    "V2ModelServer",
    "VotingEnsemble",
    "merger",
    "remote",
    "routers",
    "server",
    "states",
    "utils",
    "v2_serving",
]
