"""``alias_mlrun()``: make ``import mlrun`` give nuserve, for MLRun code that cannot be
edited, only when no real MLRun is installed (it never shadows one).

``import nuserve as mlrun`` needs no alias; this is for code (or libraries) that write
``import mlrun`` / ``from mlrun.serving import V2ModelServer`` themselves.
"""

from __future__ import annotations

import importlib.util
import sys


def alias_mlrun() -> bool:
    """Register nuserve under the name ``mlrun``; ``False`` (and nothing changed) when a
    real ``mlrun`` is importable or already imported."""
    current = sys.modules.get("mlrun")
    nuserve = sys.modules["nuserve"]
    if current is not None:
        return current is nuserve
    if importlib.util.find_spec("mlrun") is not None:
        return False
    import nuserve.runtimes.nuclio.serving  # noqa: PLC0415 - MLRun's module names
    import nuserve.serving.merger  # noqa: PLC0415
    import nuserve.serving.remote  # noqa: PLC0415
    import nuserve.serving.routers  # noqa: PLC0415
    import nuserve.serving.server  # noqa: PLC0415
    import nuserve.serving.states  # noqa: PLC0415
    import nuserve.serving.utils  # noqa: PLC0415
    import nuserve.serving.v2_serving  # noqa: PLC0415
    import nuserve.utils  # noqa: PLC0415

    sys.modules["mlrun"] = nuserve
    for name, module in list(sys.modules.items()):
        if name.startswith("nuserve.") and name.split(".")[1] in MLRUN_NAMES:
            sys.modules["mlrun." + name[len("nuserve.") :]] = module
    return True


MLRUN_NAMES = frozenset({"errors", "serving", "runtimes", "utils"})
