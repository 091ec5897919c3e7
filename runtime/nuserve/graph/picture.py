"""Picture: a flow as nodes and edges (with the function each node runs in), ready to draw.

``nuserve.graph.pictures`` draws it as Mermaid, dot, SVG or HTML; ``nuserve.graph.svg`` lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nuserve.errors import ConfigError
from nuserve.spec.flow import FlowSpec, StepSpec, handler_ref
from nuserve.spec.routers import class_ref

EVENT, RESPONSE, ERROR = "event", "response", "on_error"
SHAPES = ("event", "task", "router", "model", "queue", "merge", "error")


@dataclass
class PictureNode:
    id: str
    label: str
    shape: str
    """One of ``SHAPES``."""
    function: str | None = None
    detail: str = ""
    """A second line: the class, handler, stream path or router class."""
    responder: bool = False


@dataclass
class Picture:
    nodes: list[PictureNode] = field(default_factory=list)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)
    """``(from id, to id, dashed)``."""

    def functions(self) -> list[str | None]:
        return list(dict.fromkeys(n.function for n in self.nodes))


def picture(spec: FlowSpec) -> Picture:
    """The flow as nodes and edges: the event, the steps (router steps with their models),
    the response when a step responds, and the error handler."""
    pic = Picture([PictureNode(EVENT, "event", "event")])
    ids = {name: f"s{i}" for i, name in enumerate(spec.steps)}
    for step in spec.steps.values():
        node_id = ids[step.name]
        pic.nodes.append(
            PictureNode(node_id, step.name, step.kind, step.function, _detail(step), step.responder)
        )
        for parent in step.after or [""]:
            if parent and parent not in ids:
                raise ConfigError(f"step {step.name!r} comes after unknown step {parent!r}")
            pic.edges.append((ids[parent] if parent else EVENT, node_id, False))
        if step.router is not None:
            for j, key in enumerate(step.router.routes):
                model_id = f"{node_id}_m{j}"
                route = step.router.routes[key]
                pic.nodes.append(
                    PictureNode(model_id, key, "model", step.function, _short(route.class_name))
                )
                pic.edges.append((node_id, model_id, True))
        if step.responder:
            pic.nodes.append(PictureNode(RESPONSE, "response", "event", step.function))
            pic.edges.append((node_id, RESPONSE, False))
    if spec.on_error is not None:
        handler = spec.on_error
        detail = _short(handler.class_name) or _short(handler_ref(handler.handler))
        pic.nodes.append(PictureNode(ERROR, f"on error: {handler.name}", "error", None, detail))
    return pic


def _short(ref: object) -> str:
    text = class_ref(ref) if isinstance(ref, type) else ref
    return str(text).rpartition(".")[2] if text else ""


def _detail(step: StepSpec) -> str:
    if step.kind == "queue":
        return step.path or ""
    if step.kind == "router":
        return _short(step.router.class_name if step.router else None) or "ModelRouter"
    if step.kind == "merge":
        return "merge"
    detail = _short(step.class_name) or _short(handler_ref(step.handler))
    return "" if detail == step.name else detail


# --------------------------------------------------------------------------- mermaid
