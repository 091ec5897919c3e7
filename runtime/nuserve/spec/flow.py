"""FlowSpec and StepSpec: the serialisable description of a flow graph.

A flow stands where a router stands in ``ServingSpec.graph`` (its dict has ``kind: "flow"``).
Steps keep the order they were added; each names the steps it comes ``after``. Step kinds:

- ``task``: a ``Step`` subclass (``class_name``) or a function (``handler``), body in, body out;
- ``router``: a model router (``router``, a ``RouterSpec``), fed the body as a request;
- ``queue``: publishes the body to a stream (``path``); steps after it may run in another
  function (their ``function``), which consumes that stream;
- ``merge``: joins its inputs into ``{input step name: its output}``.

Class and handler objects are kept as objects while building in-process; ``to_dict`` writes
them as importable dotted paths where it can, else as bare names resolved at load time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from nuserve.errors import ConfigError
from nuserve.spec.routers import ClassRef, RouterSpec, class_ref

KINDS = ("task", "router", "queue", "merge")
ENGINES = ("sync", "async")
HandlerRef = str | Callable[..., Any] | None


def handler_ref(value: HandlerRef) -> str | None:
    """A function as text: ``module.qualname`` when importable, else its bare name."""
    if value is None or isinstance(value, str):
        return value
    name: str = getattr(value, "__name__", type(value).__name__)
    module = getattr(value, "__module__", None)
    qualname: str = getattr(value, "__qualname__", name)
    if not module or module in ("__main__", "builtins") or module not in sys.modules:
        return name
    if "<" in qualname:
        return name
    return f"{module}.{qualname}"


@dataclass
class StepSpec:
    """One step of a flow."""

    name: str
    kind: str = "task"
    """``task``, ``router``, ``queue`` or ``merge``."""
    class_name: ClassRef = None
    """A ``Step`` subclass (object, dotted path or bare name) for a class task."""
    handler: HandlerRef = None
    """A function (object, dotted path or bare name) for a function task."""
    class_args: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments of the class (or the queue's stream options)."""
    after: list[str] = field(default_factory=list)
    """The steps feeding this one; empty for a step fed by the event itself."""
    input_path: str | None = None
    """Dotted path into the body: the step gets ``body[a][b]`` instead of the whole body."""
    result_path: str | None = None
    """Dotted path into the body: the step's output is stored there (the body is copied)."""
    responder: bool = False
    """This step's output is the answer."""
    function: str | None = None
    """The function running this step; ``None`` is the function holding the flow."""
    path: str | None = None
    """A queue's stream: ``kafka://host:port?topic=t``, ``v3io:///container/path``,
    ``memory://name``."""
    router: RouterSpec | None = None
    """A router step's class, class arguments and routes."""
    full_event: bool = False
    """The step gets the whole event (``body``, ``path``, ``id``, ...), not the body."""
    on_error: str | None = None
    """The error step (in ``FlowSpec.error_steps``) answering when this step raises."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.class_name is not None:
            data["class_name"] = class_ref(self.class_name)
        if self.handler is not None:
            data["handler"] = handler_ref(self.handler)
        if self.class_args:
            data["class_args"] = dict(self.class_args)
        if self.after:
            data["after"] = list(self.after)
        for key in ("input_path", "result_path", "function", "path"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.responder:
            data["responder"] = True
        if self.full_event:
            data["full_event"] = True
        if self.on_error:
            data["on_error"] = self.on_error
        if self.router is not None:
            data["router"] = self.router.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepSpec:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ConfigError(f"a flow step must be an object with a 'name' (got {data!r})")
        kind = data.get("kind", "task")
        if kind not in KINDS:
            raise ConfigError(
                f"step {data['name']!r} has kind {kind!r}; expected one of {', '.join(KINDS)}"
            )
        router = data.get("router")
        return cls(
            name=data["name"],
            kind=kind,
            class_name=data.get("class_name"),
            handler=data.get("handler"),
            class_args=dict(data.get("class_args") or {}),
            after=list(data.get("after") or []),
            input_path=data.get("input_path"),
            result_path=data.get("result_path"),
            responder=bool(data.get("responder", False)),
            function=data.get("function"),
            path=data.get("path"),
            router=RouterSpec.from_dict(router) if router is not None else None,
            full_event=bool(data.get("full_event", False)),
            on_error=data.get("on_error"),
        )

    def copy(self) -> StepSpec:
        """A copy whose lists, dicts and routes may change without touching this one."""
        router = self.router
        if router is not None:
            router = RouterSpec(router.class_name, dict(router.class_args), dict(router.routes))
        return replace(
            self, class_args=dict(self.class_args), after=list(self.after), router=router
        )


@dataclass
class FlowSpec:
    """The graph root of a flow topology: its steps, engine and error handler."""

    engine: str = "sync"
    """``sync`` runs steps one after the other; ``async`` runs branches concurrently."""
    steps: dict[str, StepSpec] = field(default_factory=dict)
    """The steps, in the order they were added."""
    on_error: StepSpec | None = None
    """The error handler, a task step called with ``(body, error)`` when a step raises."""
    kind: str = "flow"
    default_error_step: str | None = None
    """The error step for steps with none of their own (MLRun's graph error handler)."""
    error_steps: dict[str, StepSpec] = field(default_factory=dict)
    """Per-step error handlers (``step.error_handler(...)``, MLRun's): each gets the failing
    step's input (the event with ``error`` and ``origin_state`` under ``full_event``) and
    answers in its place."""

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"flow engine must be 'sync' or 'async' (got {self.engine!r})")

    def __iter__(self) -> Iterator[StepSpec]:
        return iter(self.steps.values())

    def router(self, name: str | None = None) -> RouterSpec:
        """The routes of router step ``name``; without a name, of the flow's only router."""
        routers = [s for s in self.steps.values() if s.kind == "router"]
        found = [s for s in routers if name is None or s.name == name]
        if len(found) != 1 or found[0].router is None:
            known = ", ".join(repr(s.name) for s in routers) or "none"
            wanted = f"router step {name!r}" if name else "one router step"
            raise ConfigError(
                f"the flow has no {wanted} to add the model to (router steps: {known}); add "
                "one with graph.add_step('*', name='router') and pass router_step='router'"
            )
        return found[0].router

    def copy(self) -> FlowSpec:
        """A copy that later building does not change (class objects are kept)."""
        return FlowSpec(
            self.engine,
            {name: step.copy() for name, step in self.steps.items()},
            self.on_error.copy() if self.on_error is not None else None,
            error_steps={name: step.copy() for name, step in self.error_steps.items()},
            default_error_step=self.default_error_step,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "engine": self.engine,
            "steps": [step.to_dict() for step in self.steps.values()],
        }
        if self.on_error is not None:
            data["on_error"] = self.on_error.to_dict()
        if self.error_steps:
            data["error_steps"] = [step.to_dict() for step in self.error_steps.values()]
        if self.default_error_step:
            data["default_error_step"] = self.default_error_step
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowSpec:
        kind = data.get("kind")
        if kind != "flow":
            raise ConfigError(f"graph kind {kind!r} is not a flow (expected 'flow')")
        steps = [StepSpec.from_dict(s) for s in data.get("steps") or []]
        on_error = data.get("on_error")
        spec = cls(
            engine=data.get("engine", "sync"),
            steps={s.name: s for s in steps},
            on_error=StepSpec.from_dict(on_error) if on_error else None,
            error_steps={s["name"]: StepSpec.from_dict(s) for s in data.get("error_steps") or []},
            default_error_step=data.get("default_error_step"),
        )
        if len(spec.steps) != len(steps):
            names = [s.name for s in steps]
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError(f"flow steps must have unique names ({twice} appear twice)")
        return spec
