"""The serving spec: the serialisable description of what a function serves (routers, flows)."""

from nuserve.spec.flow import FlowSpec, StepSpec
from nuserve.spec.routers import RouterSpec, RouteSpec
from nuserve.spec.serving import ServingSpec

__all__ = ["FlowSpec", "RouteSpec", "RouterSpec", "ServingSpec", "StepSpec"]
