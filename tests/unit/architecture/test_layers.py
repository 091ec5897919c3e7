"""The house plan, enforced: no import circles, and imports only point down the layers.

The rule (docs/architecture.md draws it): each package or top-level module of ``nuserve`` has a
layer; a module may import its own package's modules and anything on a lower layer, never a
package on its own layer or above. ``nuserve/__init__.py`` is the public face: nothing inside
the package imports it.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import nuserve
from tests.unit.architecture.imports import Module, circles, import_graph, one_cycle

PACKAGE = Path(nuserve.__file__).parent

LAYERS: list[set[str]] = [
    {"errors", "version", "aio", "notebook", "utils"},
    {"event", "context", "resolve"},
    {"codec"},
    {"protocols", "spec", "streams"},
    {"model"},
    {"tracking"},
    {"routers"},
    {"graph", "llm"},
    {"server"},
    {"openapi", "nuclio", "hub", "serving"},
    {"function", "monitoring", "serve", "runtimes"},
    {"cli", "compat"},
    {"nuserve"},
]
"""Lowest first; the same list as docs/architecture.md's table."""

LAYER = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Module], dict[str, dict[str, int]]]:
    return import_graph(PACKAGE)


def _where(module: Module, line: int) -> str:
    return f"{module.path.relative_to(PACKAGE.parent)}:{line}"


def test_there_are_no_import_circles(graph) -> None:
    known, edges = graph
    messages = []
    for component in circles(edges):
        loop = one_cycle(component, edges)
        steps = [
            f"{_where(known[a], edges[a][b])} imports {known[b].path.relative_to(PACKAGE.parent)}"
            for a, b in itertools.pairwise(loop)
        ]
        messages.append(f"circle of {len(component)} modules:\n  " + "\n  ".join(steps))
    assert not messages, "\n".join(messages)


def test_every_package_has_a_layer(graph) -> None:
    known, _ = graph
    assert {module.unit for module in known.values()} - set(LAYER) == set(), (
        "add the new package or module to LAYERS here and to docs/architecture.md"
    )


def test_imports_point_down_the_layers(graph) -> None:
    known, edges = graph
    wrong = []
    for name, targets in sorted(edges.items()):
        module = known[name]
        for target, line in sorted(targets.items()):
            other = known[target]
            if other.unit == module.unit:
                continue
            if LAYER[other.unit] >= LAYER[module.unit]:
                wrong.append(
                    f"{_where(module, line)} ({module.unit}, layer {LAYER[module.unit]}) imports "
                    f"{other.path.relative_to(PACKAGE.parent)} ({other.unit}, layer "
                    f"{LAYER[other.unit]}): only lower layers may be imported"
                )
    assert not wrong, "\n".join(wrong)


def test_at_most_eight_plain_modules_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= 8, top
