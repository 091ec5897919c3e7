"""Unique ``operationId`` values, readable and stable for a given graph."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


class OperationIds:
    """Hands out ``infer_iris``, ``infer_iris_v2``...; a repeat gets a numeric suffix."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, *parts: str) -> str:
        base = _UNSAFE.sub("_", "_".join(p for p in parts if p)).strip("_") or "op"
        name, n = base, 1
        while name in self.seen:
            n += 1
            name = f"{base}_{n}"
        self.seen.add(name)
        return name
