"""Nuclio: the adapter behind ``handler.py``, function.yaml, triggers, deploy, stream output.

``nuserve.nuclio:handler`` (and ``handler_async``, ``init_context``) is what a function.yaml
may name instead of ``handler:handler``; they load on first use (PEP 562), so code that only
writes a function.yaml never imports the serving path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nuserve.nuclio.adapter import handler, handler_async, init_context

__all__ = ["handler", "handler_async", "init_context"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'nuserve.nuclio' has no attribute {name!r}")
    value = getattr(importlib.import_module("nuserve.nuclio.adapter"), name)
    globals()[name] = value
    return value
