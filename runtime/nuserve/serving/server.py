"""``mlrun.serving.server``: the graph server, its context, and MLRun's mock event types."""

from __future__ import annotations

from typing import Any

from nuserve.context import ServingContext as GraphContext
from nuserve.event import Event
from nuserve.server.graph_server import GraphServer
from nuserve.spec.serving import ServingSpec, graph_from_dict


class MockTrigger:
    """MLRun's stand-in for a Nuclio trigger: its ``kind`` (``http``, ``kafka``, ...)."""

    def __init__(self, kind: str = "", name: str = "") -> None:
        self.kind, self.name = kind, name


class MockEvent(Event):
    """MLRun's test event: ``MockEvent(body, path=, method=, headers=, content_type=)``."""

    def __init__(
        self,
        body: Any = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
        event_id: str | None = None,
        trigger: MockTrigger | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(body, path or "/", method or "POST", headers, content_type, event_id,
                         trigger.kind if trigger and trigger.kind else "http")  # fmt: skip


def create_graph_server(
    parameters: dict[str, Any] | None = None,
    load_mode: str | None = None,
    graph: Any = None,
    verbose: bool = False,
    current_function: str | None = None,
    **kwargs: Any,
) -> GraphServer:
    """A graph server for ``graph`` (a router or flow spec, or its dict), not yet started."""
    if isinstance(graph, dict):
        graph = graph_from_dict(graph)
    spec = ServingSpec(graph=graph, parameters=dict(parameters or {}),
                       load_mode=load_mode or "sync")  # fmt: skip
    context = GraphContext(current_function=current_function or "")
    return GraphServer(spec, context)


__all__ = ["GraphContext", "GraphServer", "MockEvent", "MockTrigger", "create_graph_server"]
