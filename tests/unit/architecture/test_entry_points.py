"""What users and deployed functions name keeps working after the move to packages."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nuserve


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("nuserve.nuclio", "handler"),  # function.yaml: handler: nuserve.nuclio:handler
        ("nuserve.nuclio", "handler_async"),
        ("nuserve.nuclio", "init_context"),
        ("nuserve.cli", "main"),  # the console script nuserve.cli:main
        ("nuserve.model", "V2ModelServer"),
        ("nuserve.server", "GraphServer"),
        ("nuserve.server", "MockServer"),
        ("nuserve.function", "new_function"),
        ("nuserve.function", "code_to_function"),
        ("nuserve.function", "function_from_yaml"),
        ("nuserve.spec", "ServingSpec"),
        ("nuserve.graph", "FlowBuilder"),
        ("nuserve.graph", "memory_stream"),
        ("nuserve.tracking", "tracking_settings"),
        ("nuserve.monitoring", "feature_stats"),
        ("nuserve.routers.ensemble", "VotingEnsemble"),
    ],
)
def test_documented_names_import(module: str, name: str) -> None:
    code = f"from {module} import {name}; print({name}.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == name


def test_the_version_has_one_home() -> None:
    from nuserve.version import __version__

    assert nuserve.__version__ == __version__
    from importlib.metadata import version

    assert version("nuserve") == __version__  # pyproject.toml reads it from nuserve.version


def test_spec_class_paths_of_builtins_did_not_move() -> None:
    """A serving spec written before names built-in classes by these dotted paths."""
    from nuserve.resolve import resolve_class

    for path in ("nuserve.routers.router.ModelRouter", "nuserve.routers.ensemble.VotingEnsemble",
                 "nuserve.graph.steps.Step", "nuserve.routers.remote.RemoteModel"):  # fmt: skip
        assert resolve_class(path, []).__name__ == path.rsplit(".", 1)[1]
