"""The serving spec: the serialisable description of what a function serves (routers, flows)."""

from nuserve.spec.flow import FlowSpec, StepSpec
from nuserve.spec.serving import RouteSpec, RouterSpec, ServingSpec

__all__ = ["FlowSpec", "RouteSpec", "RouterSpec", "ServingSpec", "StepSpec"]
