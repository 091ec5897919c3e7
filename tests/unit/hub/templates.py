"""How each function.yaml of nuserve's hub is built; ``python -m tests.unit.hub.templates``
rewrites them (test_templates checks they are fresh)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import nuserve
from nuserve.hub import BUILTIN_HUB


def _router(fn: nuserve.ServingFunction) -> None:
    fn.set_topology("router")


def _ensemble(fn: nuserve.ServingFunction) -> None:
    fn.set_topology("router", "VotingEnsemble", name="ensemble", vote_type="classification")


def _remote_flow(fn: nuserve.ServingFunction) -> None:
    graph = fn.set_topology("flow", engine="async")
    graph.to("Scale", name="prepare").to("*", name="router").to(handler="outputs", name="outputs")
    fn.add_model("remote", class_name="RemoteEndpoint", router_step="router")


TEMPLATES: dict[str, tuple[str, Callable[[nuserve.ServingFunction], None], list[str]]] = {
    "sklearn-classifier": ("sklearn_classifier", _router, ["scikit-learn>=1.4,<2"]),
    "voting-ensemble": ("voting_ensemble", _ensemble, ["scikit-learn>=1.4,<2"]),
    "onnx-model": ("onnx_model", _router, ["onnxruntime>=1.17,<2"]),
    "remote-flow": ("remote_flow", _remote_flow, []),
}


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def build(name: str) -> str:
    """The function.yaml text of hub function ``name``."""
    folder, shape, requirements = TEMPLATES[name]
    with _inside(BUILTIN_HUB / folder):
        fn = nuserve.code_to_function(name, filename=f"{folder}.py", requirements=requirements)
        shape(fn)
        return fn.to_yaml()


if __name__ == "__main__":
    for template, (directory, _, _) in TEMPLATES.items():
        (BUILTIN_HUB / directory / "function.yaml").write_text(build(template), encoding="utf-8")
