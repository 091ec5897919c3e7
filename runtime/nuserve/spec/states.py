"""MLRun's step descriptions (``mlrun.serving.states``): ``TaskStep`` and ``RouterStep``.

A ``TaskStep`` names a class (or handler) and its arguments; as a router's route it is a
``RouteSpec`` (its ``model_path`` class argument becomes the route's), so
``graph.routes = {"m1": TaskStep("MyModel", class_args={...})}`` sets a router's models the
way MLRun's tests and docs do. A ``RouterStep`` is a ``RouterSpec`` built MLRun's way.
``to_dict()`` writes MLRun's shape (``class_name``, ``class_args``, ``handler``, ``name``).
"""

from __future__ import annotations

from typing import Any

from nuserve.spec.routers import ClassRef, RouterSpec, RouteSpec, class_ref


class TaskStep(RouteSpec):
    """A class (or handler) step with its arguments, usable as a router's route."""

    def __init__(
        self,
        class_name: ClassRef = None,
        class_args: dict[str, Any] | None = None,
        handler: str | None = None,
        name: str | None = None,
        after: list[str] | None = None,
        full_event: bool | None = None,
        function: str | None = None,
        responder: bool | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
    ) -> None:
        args = dict(class_args or {})
        model_path = args.pop("model_path", None)
        super().__init__(name or "", class_name, model_path, None, args)
        self.handler, self.name, self.after = handler, name, list(after or [])
        self.full_event, self.function, self.responder = full_event, function, responder
        self.input_path, self.result_path = input_path, result_path

    @property
    def full_class_args(self) -> dict[str, Any]:
        args = dict(self.class_args)
        if self.model_path is not None:
            args = {"model_path": self.model_path, **args}
        return args

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.class_name is not None:
            data["class_name"] = class_ref(self.class_name)
        if self.full_class_args:
            data["class_args"] = self.full_class_args
        for key in ("handler", "name", "function", "input_path", "result_path"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.after:
            data["after"] = list(self.after)
        for key in ("full_event", "responder"):
            if getattr(self, key):
                data[key] = True
        return data


class RouterStep(RouterSpec):
    """A router with its class, arguments and routes, built MLRun's way."""

    def __init__(
        self,
        class_name: ClassRef = None,
        class_args: dict[str, Any] | None = None,
        handler: str | None = None,
        routes: dict[str, RouteSpec] | None = None,
        name: str | None = None,
        function: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
    ) -> None:
        super().__init__(class_name, dict(class_args or {}), dict(routes or {}))
        self.handler, self.name, self.function = handler, name, function
        self.input_path, self.result_path = input_path, result_path

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": "router"}
        if self.class_name is not None:
            data["class_name"] = class_ref(self.class_name)
        if self.class_args:
            data["class_args"] = dict(self.class_args)
        data["routes"] = {key: route.to_dict() for key, route in self.routes.items()}
        for key in ("name", "function", "input_path", "result_path"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data
