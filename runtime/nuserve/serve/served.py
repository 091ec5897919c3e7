"""What a worker's graph serves, as the names ``/metrics`` labels and the line it prints.

``nuserve serve`` once printed nothing: no address, no models, no state. The supervisor says
where it listens (``workers.run``); each worker, once its graph is built, what it serves.
"""

from __future__ import annotations

import os
from typing import Any


def serving_line(address: str, context: Any, seconds: float) -> str:
    """``nuserve serve: worker 123 serving http://...: iris (ready), m:v2 (loading)``."""
    server = context.user_data.server
    states = [
        model.name + (f":{model.version}" if model.version else "") + f" ({model.readiness()})"
        for model in server.root.models()
    ]
    models = ", ".join(states)[:400] or "no models"
    return f"nuserve serve: worker {os.getpid()} serving {address} ({seconds:.1f} s): {models}\n"


def served_names(server: Any) -> dict[str, set[str]]:
    """Each name a request path may name (models, and routers: an ensemble is served at its
    name), with its custom operations: the only model labels ``/metrics`` shows."""
    names: dict[str, set[str]] = {}
    endpoints = [*server.root.models(), server.root]
    nodes = getattr(server.root, "nodes", None)
    if nodes is not None:  # a flow: its router steps
        endpoints += [node.target for node in nodes]
    for endpoint in endpoints:
        name = getattr(endpoint, "name", None)
        if isinstance(name, str) and name:
            names.setdefault(name, set()).update(getattr(endpoint, "operations", None) or ())
    return names
