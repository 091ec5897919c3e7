"""The hub's function.yamls are what the builder writes for them (none edited by hand)."""

from __future__ import annotations

import pytest

from nuserve import hub
from tests.unit.hub.templates import TEMPLATES, build


def test_every_indexed_function_has_a_template() -> None:
    assert set(TEMPLATES) == {name for name, item in hub.items(hub.BUILTIN_HUB).items()}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_shipped_yaml_is_fresh(name: str) -> None:
    shipped = (hub.fetch(name, hub_url=hub.BUILTIN_HUB) / "function.yaml").read_text()
    assert shipped == build(name), "stale: run python -m tests.unit.hub.templates"
