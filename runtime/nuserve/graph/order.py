"""The order steps run in, and who follows whom: worked out once, when a flow is frozen."""

from __future__ import annotations

from nuserve.errors import ConfigError
from nuserve.graph.node import Node


def topological_order(nodes: list[Node], engine: str = "sync") -> list[Node]:
    """The nodes with each after its inputs, otherwise in the order they were added.

    Refuses what the engines cannot run: unknown inputs, a task with several inputs in the
    sync engine (join them with a merge; the async engine runs it once per input, as MLRun),
    a merge with none, and cycles.
    """
    by_name = {n.name: n for n in nodes}
    if not nodes:
        raise ConfigError("the flow has no steps; add one with graph.to(...)")
    for node in nodes:
        missing = [a for a in node.after if a not in by_name]
        if missing:
            raise ConfigError(
                f"step {node.name!r} comes after {missing}, which this function does not run "
                f"(steps: {', '.join(by_name)}); steps of another function follow a queue"
            )
        if node.kind == "merge" and not node.after:
            raise ConfigError(f"merge step {node.name!r} needs after=[<steps to join>]")
        if node.kind != "merge" and len(node.after) > 1 and engine == "sync":
            raise ConfigError(
                f"step {node.name!r} has {len(node.after)} inputs ({', '.join(node.after)}); "
                "join them with a merge step first: graph.add_step('$merge', after=[...])"
            )
    order: list[Node] = []
    placed: set[str] = set()
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if placed.issuperset(n.after)]
        if not ready:
            raise ConfigError(f"the flow has a cycle through {[n.name for n in pending]}")
        order.append(ready[0])
        placed.add(ready[0].name)
        pending.remove(ready[0])
    return order


def children_of(nodes: list[Node]) -> dict[str, list[Node]]:
    """Each node's successors, in order."""
    children: dict[str, list[Node]] = {n.name: [] for n in nodes}
    for node in nodes:
        for parent in node.after:
            children[parent].append(node)
    return children
