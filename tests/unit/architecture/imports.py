"""The import graph of ``runtime/nuserve``, read from the source (no import is run).

Every import counts: at module level, inside functions, and under ``TYPE_CHECKING``, since a
circle through any of them still ties the files together. ``from a.b import c`` is an edge to
``a/b/c.py`` when that module exists, else to ``a/b`` (its ``__init__.py``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Module:
    name: str
    """Dotted: ``nuserve.model.operations``; a package is its ``__init__``."""
    path: Path

    @property
    def unit(self) -> str:
        """The package or top-level module this belongs to (``model``, ``errors``, ``nuserve``)."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else "nuserve"


def modules(package: Path) -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        found[name] = Module(name, path)
    return found


def _imported(module: Module, known: dict[str, Module]) -> dict[str, int]:
    """Names of the package's modules ``module`` imports, each with the first line doing it."""
    tree = ast.parse(module.path.read_text(), str(module.path))
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    edges: dict[str, int] = {}
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                targets.append(candidate if candidate in known else source)
        for target in targets:
            if target in known and target != module.name:
                edges.setdefault(target, node.lineno)
    return edges


def import_graph(package: Path) -> tuple[dict[str, Module], dict[str, dict[str, int]]]:
    known = modules(package)
    return known, {name: _imported(module, known) for name, module in known.items()}


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def one_cycle(component: list[str], graph: dict[str, dict[str, int]]) -> list[str]:
    """A shortest loop through the component's first module, to name in a message."""
    start = component[0]
    members = set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node]):
            if child == start:
                return [*paths[node], start]
            if child in members and child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return component
