"""Merge: MLRun's join of branches into the list of their outputs.

``graph.add_step(Merge(name="m"), after=["a", "b"])`` waits for the output of every input
step of the same event and passes on the list of them (in the order of ``after``). A
``key_path`` expression (``"event['key']"``) names the key events are joined by; nuserve
joins the branches of one event, so the key is checked (an event without it fails, as in
MLRun) and the branches of one event always share it. ``max_behind`` is accepted: within one
event nothing falls behind.
"""

from __future__ import annotations

from typing import Any

from nuserve.graph.expression import Expression
from nuserve.spec.routers import class_ref


class Merge:
    """Join the outputs of the steps before it into a list."""

    def __init__(
        self,
        name: str | None = None,
        full_event: bool | None = None,
        key_path: str | None = None,
        max_behind: int | None = None,
        context: Any = None,
        **kwargs: Any,
    ) -> None:
        self.name = name or "Merge"
        self.context = context
        self.full_event, self.key_path, self.max_behind = full_event, key_path, max_behind
        self.kwargs = kwargs
        where = f"merge step {self.name!r} key_path"
        self._key_of = Expression(key_path, ("event",), where) if key_path else None

    def join(self, inputs: dict[str, Any]) -> list[Any]:
        """The list of the inputs' outputs; each must hold the key when one is named."""
        if self._key_of is not None:
            for value in inputs.values():
                self._key_of(value)
        return list(inputs.values())

    def to_dict(self) -> dict[str, Any]:
        args = {"full_event": self.full_event, "key_path": self.key_path,
                "max_behind": self.max_behind, **self.kwargs}  # fmt: skip
        return {
            "class_name": class_ref(type(self)),
            "name": self.name,
            "class_args": {k: v for k, v in args.items() if v is not None},
        }
