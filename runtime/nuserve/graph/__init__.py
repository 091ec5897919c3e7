"""Flow graphs: steps, branches, merges, error handlers, responders and queues.

``fn.set_topology("flow", engine="sync" | "async")`` returns a ``FlowBuilder``; the server
builds a ``Flow`` from the ``FlowSpec`` with ``build_flow``. Pictures are in
``nuserve.graph.pictures`` (Mermaid, dot, SVG, HTML); ``nuserve graph`` is
``nuserve.cli.graph.graph_command``.

    builder.py   FlowBuilder, StepBuilder (``to``, ``add_step``, ``respond``, ...)
    steps.py     Step (``do(body)``, ``on_error(body, error)``), function lookup
    build.py     build_flow: spec to Flow        flow.py  Flow, error answers, ordering
    engine_sync.py / engine_async.py             the two engines
    paths.py     input_path / result_path        queues.py  queue steps (nuserve.streams)
    split.py     the flow of each function
    pictures.py, svg.py                          drawing

The flow's serialisable form (``FlowSpec``, ``StepSpec``) is ``nuserve.spec.flow``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nuserve.graph.build import build_flow
    from nuserve.graph.builder import FlowBuilder, StepBuilder
    from nuserve.graph.flow import Flow
    from nuserve.graph.split import ChildTrigger, child_trigger, split_by_function
    from nuserve.graph.steps import Step
    from nuserve.spec.flow import FlowSpec, StepSpec
    from nuserve.streams.base import Stream
    from nuserve.streams.memory import MemoryStream, memory_stream

_MODULES = {
    "ChildTrigger": "nuserve.graph.split",
    "Flow": "nuserve.graph.flow",
    "FlowBuilder": "nuserve.graph.builder",
    "FlowSpec": "nuserve.spec.flow",
    "MemoryStream": "nuserve.streams.memory",
    "Step": "nuserve.graph.steps",
    "StepBuilder": "nuserve.graph.builder",
    "StepSpec": "nuserve.spec.flow",
    "Stream": "nuserve.streams.base",
    "build_flow": "nuserve.graph.build",
    "child_trigger": "nuserve.graph.split",
    "memory_stream": "nuserve.streams.memory",
    "split_by_function": "nuserve.graph.split",
}
__all__ = [
    "ChildTrigger",
    "Flow",
    "FlowBuilder",
    "FlowSpec",
    "MemoryStream",
    "Step",
    "StepBuilder",
    "StepSpec",
    "Stream",
    "build_flow",
    "child_trigger",
    "memory_stream",
    "split_by_function",
]


def __getattr__(name: str) -> Any:
    """Import on first use (PEP 562): ``import nuserve`` needs only ``Step`` from here, and a
    function serving a router never loads the flow machinery."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'nuserve.graph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
