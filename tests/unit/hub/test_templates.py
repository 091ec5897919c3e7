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


def test_every_hub_file_is_package_data() -> None:
    """pyproject.toml's package-data globs ship each file of the hub in the wheel."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["nuserve"]
    package = hub.BUILTIN_HUB.parents[1]
    files = [p for p in hub.BUILTIN_HUB.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) == 9
    for file in files:
        relative = file.relative_to(package).as_posix()
        assert any(
            fnmatch.fnmatch(relative, g) and relative.count("/") == g.count("/") for g in globs
        ), relative
