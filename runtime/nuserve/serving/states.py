"""``mlrun.serving.states``: step descriptions."""

from nuserve.graph.builder import FlowBuilder as FlowStep
from nuserve.spec.states import RouterStep, TaskStep

QueueStep = TaskStep

__all__ = ["FlowStep", "QueueStep", "RouterStep", "TaskStep"]
