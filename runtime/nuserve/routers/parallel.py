"""ParallelRun: every model answers each request; their outputs are merged into one answer."""

from __future__ import annotations

from typing import Any

from nuserve.errors import ModelError
from nuserve.event import Event
from nuserve.routers.base import BaseRouter


class ParallelRun(BaseRouter):
    """Runs every route side by side; override ``merge`` to combine the outputs your way.

    The default merge: when every model answers a dict, one dict holding all their keys (a
    key two models answer with different values is an error, never a silent pick); else a
    dict of each model's outputs keyed by its route key (``name`` or ``name:version``).
    """

    def merge(self, event: Event, request: dict[str, Any], results: dict[str, Any]) -> Any:
        if not all(isinstance(outputs, dict) for outputs in results.values()):
            return results
        merged: dict[str, Any] = {}
        source: dict[str, str] = {}
        for key, outputs in results.items():
            for name, value in outputs.items():
                if name in merged and not _equal(merged[name], value):
                    raise ModelError(
                        f"models '{source[name]}' and '{key}' of router '{self.name}' both "
                        f"answered {name!r}, with different values; override merge() of "
                        f"{type(self).__name__} to combine them"
                    )
                merged[name] = value
                source.setdefault(name, key)
        return merged

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "merge": "dict outputs merged, else keyed by model"}


def _equal(a: Any, b: Any) -> bool:
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    try:
        return bool(np.array_equal(a, b))
    except Exception:  # noqa: BLE001 - values numpy cannot compare are different
        return a is b
