"""``alias_mlrun()``: make ``import mlrun`` give nuserve, for MLRun code that cannot be
edited, only when no real MLRun is installed (it never shadows one).

``import nuserve as mlrun`` needs no alias; this is for code (or libraries) that write
``import mlrun`` / ``from mlrun.serving import V2ModelServer`` themselves.
"""

from __future__ import annotations

import importlib.util
import sys

MODULES = (
    "errors", "serving", "serving.routers", "serving.remote", "serving.merger",
    "serving.states", "serving.utils", "serving.server", "serving.v2_serving",
    "runtimes", "runtimes.nuclio", "runtimes.nuclio.serving", "utils",
)  # fmt: skip


def alias_mlrun() -> bool:
    """Register nuserve under the name ``mlrun``; ``False`` (and nothing changed) when a
    real ``mlrun`` is importable or already imported."""
    current = sys.modules.get("mlrun")
    nuserve = sys.modules["nuserve"]
    if current is not None:
        return current is nuserve
    if importlib.util.find_spec("mlrun") is not None:
        return False
    sys.modules["mlrun"] = nuserve
    for name in MODULES:
        module = importlib.import_module(f"nuserve.{name}")
        sys.modules[f"mlrun.{name}"] = module
    return True
