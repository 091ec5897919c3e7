"""docs/architecture.md tells the truth: its layer table is the enforced one, and every
arrow of its package picture is a real import."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from tests.unit.architecture.imports import import_graph
from tests.unit.architecture.test_layers import LAYERS, PACKAGE

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"


def test_the_layer_table_is_the_enforced_one() -> None:
    rows = re.findall(r"^\| *(\d+) \| (.+?) \|$", DOC.read_text(), re.M)
    table = {int(layer): set(re.findall(r"`(\w+)`", names)) for layer, names in rows}
    assert table == dict(enumerate(LAYERS))


def _arrows() -> list[tuple[str, str]]:
    block = DOC.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    arrows = []
    for line in block.splitlines():
        if "-->" in line:
            source, targets = (part.strip() for part in line.split("-->", 1))
            arrows += [(source, target.strip()) for target in targets.split("&")]
    return arrows


@functools.cache
def _package_edges() -> set[tuple[str, str]]:
    known, edges = import_graph(PACKAGE)
    return {(known[a].unit, known[b].unit) for a, targets in edges.items() for b in targets}


@pytest.mark.parametrize(("source", "target"), _arrows())
def test_every_arrow_of_the_picture_is_an_import(source: str, target: str) -> None:
    found = _package_edges()
    assert (source, target) in found, f"docs/architecture.md draws {source} --> {target}"
