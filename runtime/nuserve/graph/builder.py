"""FlowBuilder: what ``fn.set_topology("flow")`` returns, MLRun's graph-building calls.

``graph.to(X).to(Y)`` chains (``to`` on the graph starts a branch fed by the event; ``to``
on a step continues after it); ``graph.add_step(X, after=..., before=...)`` places a step
anywhere. What the first argument may be:

- a ``Step`` subclass, or its dotted path or bare name: a class step (``do(body)``);
- a function (or ``handler="pkg.mod.func"``): a function step;
- ``"*"``, ``"*pkg.mod.Router"`` or a ``ModelRouter`` subclass: a router step; add models
  with ``fn.add_model(..., router_step=name)`` (or ``step.add_route``);
- ``"$merge"``: a merge, joining the steps in ``after`` into ``{step name: output}`` once
  all of them have answered (a plain step takes one input);
- ``">>"``: a queue publishing to ``path=`` (``kafka://host:port?topic=t``,
  ``v3io:///container/path``, ``memory://name``); steps after it may run in another
  function (``function="child"``), which later steps then inherit.

Every call changes the ``FlowSpec`` held in the function's serving spec.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nuserve.errors import ConfigError, MLRunInvalidArgumentError
from nuserve.graph.expression import Expression, is_expression
from nuserve.graph.merger import Merge
from nuserve.graph.steps import Step
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.router import ModelRouter
from nuserve.spec.flow import FlowSpec, HandlerRef, StepSpec
from nuserve.spec.routers import ClassRef, RouterSpec, RouteSpec

MERGE, QUEUE, ROUTER = "$merge", ">>", "*"
Target = str | type | Callable[..., Any] | None
After = str | list[str] | tuple[str, ...] | None


class FlowBuilder:
    """Builds a flow graph: steps, branches, merges, the responder and the error handler."""

    def __init__(self, spec: FlowSpec | None = None, engine: str = "sync") -> None:
        self.spec = spec if spec is not None else FlowSpec(engine)
        self._last: str | None = next(reversed(self.spec.steps), None)

    def __getitem__(self, name: str) -> StepBuilder:
        if name not in self.spec.steps:
            raise KeyError(f"no step {name!r} (steps: {', '.join(self.spec.steps) or 'none'})")
        return StepBuilder(self, name)

    def __repr__(self) -> str:
        return f"FlowBuilder(engine={self.spec.engine!r}, steps={list(self.spec.steps)})"

    def to(
        self,
        class_name: Target = None,
        name: str | None = None,
        handler: HandlerRef = None,
        *,
        function: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **class_args: Any,
    ) -> StepBuilder:
        """Add a step fed by the event itself (a new branch when the flow has steps)."""
        return self.add_step(
            class_name, name, handler, after=[], function=function,
            input_path=input_path, result_path=result_path, **class_args,
        )  # fmt: skip

    def set_flow(self, steps: list[Any], force: bool = False) -> StepBuilder:
        """Replace the flow's steps by ``steps``, chained in order (MLRun): a dict holds a
        step's ``to()`` arguments, anything else is its class (name, class or object)."""
        if self.spec.steps and not force:
            raise MLRunInvalidArgumentError(
                "set_flow() called on a step that already has downstream steps. If you want "
                "to overwrite existing steps, set force=True."
            )
        if not steps:
            raise ConfigError("set_flow() needs at least one step")
        self.spec.steps.clear()
        self._last = None
        current: FlowBuilder | StepBuilder = self
        for item in steps:
            current = current.to(**item) if isinstance(item, dict) else current.to(item)
        assert isinstance(current, StepBuilder)
        return current

    def to_yaml(self) -> str:
        """The flow's spec as YAML text."""
        import yaml  # noqa: PLC0415 - only when asked

        return str(yaml.safe_dump(self.spec.to_dict(), sort_keys=False))

    def to_dict(self) -> dict[str, Any]:
        return self.spec.to_dict()

    def add_step(
        self,
        class_name: Target = None,
        name: str | None = None,
        handler: HandlerRef = None,
        after: After = None,
        before: str | None = None,
        *,
        function: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        full_event: bool = False,
        **class_args: Any,
    ) -> StepBuilder:
        """Add a step after ``after`` (names; default: the last step added, ``[]``: the event)
        and, with ``before``, in front of that step."""
        step = _new_step(class_name, name, handler, class_args)
        if step.name in self.spec.steps:
            raise ConfigError(f"the flow already has a step {step.name!r}; pass another name=")
        step.input_path = input_path or step.input_path
        step.result_path = result_path or step.result_path
        step.full_event = bool(full_event)
        if step.kind == "merge" and (input_path or result_path):
            raise ConfigError(f"merge step {step.name!r} takes no input_path or result_path")
        step.after = self._after(after, before)
        for parent in step.after:
            if parent not in self.spec.steps:
                raise ConfigError(f"step {step.name!r}: no step {parent!r} to come after")
        step.function = self._function(step, function)
        if before is not None:
            self._insert_before(step, before, explicit=after is not None)
        self.spec.steps[step.name] = step
        self._last = step.name
        return StepBuilder(self, step.name)

    def _after(self, after: After, before: str | None) -> list[str]:
        if before is not None and after is None:
            return list(self[before].spec.after)
        if after is None or after == "$prev":
            return [self._last] if self._last is not None else []
        return [after] if isinstance(after, str) else list(after)

    def _function(self, step: StepSpec, function: str | None) -> str | None:
        """The step's function: given, else its inputs'; crossing functions needs a queue."""
        parents = [self.spec.steps[a] for a in step.after]
        if function is None and any(p.kind == "queue" and not p.path for p in parents):
            # MLRun's rule; nuserve lets a step of the same function follow a queue that
            # has a stream (a branch going on locally), not one without
            raise MLRunInvalidArgumentError(
                f"step {step.name!r} must specify a function, because it follows a queue step"
            )
        if function is None and parents:
            inherited = {p.function for p in parents}
            if len(inherited) > 1:
                raise ConfigError(
                    f"step {step.name!r} joins steps of functions {sorted(map(str, inherited))}"
                    "; pass function= (inputs from another function come through a queue)"
                )
            function = inherited.pop()
        for parent in parents:
            if parent.function != function and parent.kind != "queue" and step.kind != "merge":
                raise ConfigError(
                    f"step {step.name!r} (function {function!r}) comes after {parent.name!r} "
                    f"(function {parent.function!r}); another function's steps must follow a "
                    "queue: graph.add_step('>>', 'q', path='kafka://...', after=...)"
                )
        if function is not None and not parents and step.kind != "merge":
            raise ConfigError(
                f"step {step.name!r} runs in function {function!r} but nothing feeds it; put it "
                "after a queue step"
            )
        return function

    def _insert_before(self, step: StepSpec, before: str, explicit: bool) -> None:
        target = self[before].spec
        if not explicit:
            target.after = [step.name]
            return
        replaced = [a for a in target.after if a in step.after]
        if not replaced:
            raise ConfigError(
                f"step {step.name!r}: before={before!r} but {before!r} does not come after "
                f"{step.after}"
            )
        inputs = [step.name if a in step.after else a for a in target.after]
        target.after = list(dict.fromkeys(inputs))

    def error_handler(
        self, class_name: ClassRef = None, name: str | None = None, handler: HandlerRef = None,
        full_event: bool | None = None, before: str | None = None, **class_args: Any,
    ) -> FlowBuilder:  # fmt: skip
        """Call this (a Step subclass's ``on_error``, or a function ``f(body, error)``) when a
        step raises; it returns the answer, or ``None`` to keep the error's.

        With ``full_event`` (MLRun's graph error handler) it is a step run in place of any
        step that raises and has no handler of its own: it gets the event, with ``error`` and
        ``origin_state`` (``full_event=True``) or the step's input, and answers."""
        if full_event is not None or before is not None:
            if before is not None:
                raise ConfigError(
                    f"error_handler(before={before!r}) is not supported: the handler's output "
                    "is the answer"
                )
            step = _new_step(class_name, name, handler, class_args)
            step.full_event = bool(full_event)
            self.spec.error_steps[step.name] = step
            self.spec.default_error_step = step.name
            return self
        step = _new_step(class_name, name, handler, class_args)
        if step.kind != "task":
            raise ConfigError(f"the error handler must be a Step class or a function ({step})")
        self.spec.on_error = step
        return self

    def to_mermaid(self) -> str:
        from nuserve.graph.pictures import to_mermaid  # noqa: PLC0415 - drawing on demand

        return to_mermaid(self.spec)

    def to_dot(self) -> str:
        from nuserve.graph.pictures import to_dot  # noqa: PLC0415

        return to_dot(self.spec)

    def plot(self, path: str | Path | None = None, renderer: str = "auto", **kw: Any) -> Any:
        """Draw the flow into ``path``: ``.svg``, ``.html``, ``.dot``, ``.mmd`` or ``.png``
        (missing folders are created); with no path, the SVG text (a notebook shows it).
        Graphviz keywords MLRun passes on (``rankdir``, ``format``) are accepted."""
        from nuserve.graph.pictures import plot, to_svg_text  # noqa: PLC0415

        if path is None:
            return to_svg_text(self.spec)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return plot(self.spec, path, renderer)


class StepBuilder:
    """One step of a flow being built; ``to`` continues after it."""

    def __init__(self, flow: FlowBuilder, name: str) -> None:
        self.flow = flow
        self.name = name

    @property
    def spec(self) -> StepSpec:
        return self.flow.spec.steps[self.name]

    def __repr__(self) -> str:
        return f"StepBuilder({self.spec})"

    def to(
        self,
        class_name: Target = None,
        name: str | None = None,
        handler: HandlerRef = None,
        *,
        function: str | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        **class_args: Any,
    ) -> StepBuilder:
        """Add a step after this one; returns the new step."""
        return self.flow.add_step(
            class_name, name, handler, after=[self.name], function=function,
            input_path=input_path, result_path=result_path, **class_args,
        )  # fmt: skip

    def __getattr__(self, key: str) -> Any:
        """MLRun's step fields (``class_name``, ``class_args``, ``handler``, ...) read from
        the spec."""
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return getattr(self.spec, key)
        except AttributeError:
            raise AttributeError(f"step {self.name!r} has no attribute {key!r}") from None

    @property
    def routes(self) -> dict[str, RouteSpec]:
        """A router step's routes (``fn.add_model`` and ``add_route`` add to them)."""
        return self.flow.spec.router(self.name).routes

    @property
    def after(self) -> list[str]:
        return self.spec.after

    def after_step(self, *names: str, **kwargs: Any) -> StepBuilder:
        """Add inputs to this step (MLRun): it also runs on each of their outputs (a merge
        step joins them instead)."""
        for name in names:
            if name not in self.flow.spec.steps:
                raise ConfigError(f"step {self.name!r}: no step {name!r} to come after")
            if name not in self.spec.after:
                self.spec.after.append(name)
        return self

    def error_handler(
        self, name: str | None = None, class_name: Target = None, handler: HandlerRef = None,
        before: str | None = None, function: str | None = None, full_event: bool = False,
        input_path: str | None = None, result_path: str | None = None, **class_args: Any,
    ) -> StepBuilder:  # fmt: skip
        """Run this handler (a class or function) when this step raises (MLRun): it gets
        the step's input (``full_event=True``: the event, with ``error`` and
        ``origin_state``) and its output is the answer. Returns this step."""
        step = _new_step(class_name, name, handler, class_args)
        if step.kind != "task":
            raise ConfigError(f"the error handler must be a class or a function ({step})")
        if before is not None:
            raise ConfigError(
                f"error_handler(before={before!r}) is not supported: the handler's output is "
                "the answer"
            )
        step.full_event, step.input_path, step.result_path = full_event, input_path, result_path
        self.flow.spec.error_steps[step.name] = step
        self.spec.on_error = step.name
        return self

    def respond(self) -> StepBuilder:
        """Make this step's output the answer (the flow goes on after it); one per function."""
        me = self.spec
        others = [s.name for s in self.flow.spec if s.responder and s.function == me.function]
        if others and others != [self.name]:
            raise ConfigError(
                f"step {others[0]!r} already responds; a function's flow has one responder"
            )
        self.spec.responder = True
        return self

    def add_route(
        self, key: str, class_name: ClassRef = None, model_path: str | None = None,
        model_url: str | None = None, default: bool = False, **class_args: Any,
    ) -> RouteSpec:  # fmt: skip
        """Add a model to this router step (as ``fn.add_model(..., router_step=name)``)."""
        router = self.flow.spec.router(self.name)
        return router.add_route(key, class_name, model_path, model_url, default, **class_args)


def _new_step(
    target: Target, name: str | None, handler: HandlerRef, class_args: dict[str, Any]
) -> StepSpec:
    """A step spec from what ``to``/``add_step`` got, its kind told by the target."""
    if isinstance(target, str) and target.startswith(ROUTER):
        router = RouterSpec(class_name=target[1:] or None, class_args=class_args)
        return StepSpec(name or "router", "router", router=router)
    if target == MERGE:
        return StepSpec(name or "merge", "merge", class_args=class_args)
    if target in (QUEUE, "$queue"):
        if not name:
            raise ConfigError("a queue step needs a name: graph.to('>>', 'q1', path=...)")
        return StepSpec(name, "queue", path=class_args.pop("path", None), class_args=class_args)
    if target == "$remote":
        from nuserve.graph.remote_step import RemoteStep  # noqa: PLC0415 - on demand

        target = RemoteStep
    if isinstance(target, ModelRouter):
        return _router_object_step(target, name)
    if _describes_itself(target):
        return _object_step(target, name, class_args)
    if isinstance(target, type):
        if issubclass(target, ModelRouter):
            router = RouterSpec(class_name=target, class_args=class_args)
            return StepSpec(name or "router", "router", router=router)
        if issubclass(target, Merge):
            return StepSpec(name or "Merge", "merge", class_name=target, class_args=class_args)
        if not issubclass(target, Step | V2ModelServer) and not _has_do(target):
            raise ConfigError(
                f"{target.__name__} is not a flow step: pass a class with do(body) (or a "
                "nuserve.graph.Step subclass), a function, '*' (a router; models go in with "
                "fn.add_model(router_step=...)), '$merge' or '>>'"
            )
    elif target is not None and not isinstance(target, str):
        if isinstance(target, Step) or not callable(target):
            raise ConfigError(
                f"{target!r} is an object; pass its class and arguments: "
                "graph.to(MyStep, name='x', arg=1), or a function"
            )
        if handler is not None:
            raise ConfigError("pass the function as the first argument or as handler=, not both")
        target, handler = None, target
    if target is not None and handler is not None and not isinstance(handler, str):
        raise ConfigError("a step is a class (class_name) or a function (handler=), not both")
    if target is None and handler is None:
        raise ConfigError("add_step needs a class, a function (handler=), '*', '$merge' or '>>'")
    if target is None and is_expression(handler):
        Expression(str(handler), ("event",), f"step {name or handler!r} handler")  # checked now
    default = target if target is not None else handler
    label = default if isinstance(default, str) else getattr(default, "__name__", "step")
    if is_expression(label):
        label = "expression"
    return StepSpec(name or label.rpartition(".")[2], class_name=target, handler=handler,
                    class_args=class_args)  # fmt: skip


def _has_do(cls: type) -> bool:
    return any(callable(getattr(cls, m, None)) for m in ("do", "do_event", "step_call"))


def _describes_itself(target: Any) -> bool:
    """A configured step object (a model, RemoteStep, Merge, ...) that gives its class and
    the arguments it was built with (``to_dict()``, MLRun's step objects)."""
    return not isinstance(target, str | type) and callable(getattr(target, "to_dict", None))


def _object_step(target: Any, name: str | None, class_args: dict[str, Any]) -> StepSpec:
    described = target.to_dict()
    args = {**dict(described.get("class_args") or {}), **class_args}
    kind = "merge" if isinstance(target, Merge) else "task"
    step = StepSpec(name or described.get("name") or type(target).__name__, kind,
                    class_name=type(target), class_args=args)  # fmt: skip
    step.input_path = described.get("input_path")
    step.result_path = described.get("result_path")
    return step


def _router_object_step(target: ModelRouter, name: str | None) -> StepSpec:
    router = RouterSpec(class_name=type(target), class_args=dict(target.init_args))
    return StepSpec(name or target.name, "router", router=router)
