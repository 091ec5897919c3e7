"""ParallelRun: every model answers each request; their outputs are merged into one answer.

Its children may also be plain steps (MLRun): a class with ``do(body)`` or a handler
(``graph.add_route("c3", handler="my_hnd")``). Each then gets the request body and answers a
dict; the answer is those dicts merged, starting from the body itself with
``extend_event=True``. ``executor_type`` (``ParallelRunnerModes``) says how they run:
``array`` one after the other, ``thread`` in a thread pool (the default), ``process`` in a
pool of worker processes (forked once, each holding the children built in this process).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import BadRequest, ConfigError, ModelError
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import decode_body, is_raw
from nuserve.routers.base import BaseRouter
from nuserve.routers.fanout import shared_pool

MODES = ("array", "thread", "process")
_RUNNERS: dict[int, ParallelRun] = {}
"""Routers with step children by id, read by forked worker processes."""
_ids = itertools.count(1)


def _run_in_process(router_id: int, key: str, body: Any) -> Any:
    """In a worker process: the child of the router this process was forked with."""
    return _RUNNERS[router_id].step_children[key](body)


class ParallelRun(BaseRouter):
    """Runs every route side by side; override ``merge`` to combine the outputs your way.

    The default merge: when every model answers a dict, one dict holding all their keys (a
    key two models answer with different values is an error, never a silent pick); else a
    dict of each model's outputs keyed by its route key (``name`` or ``name:version``).
    """

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        routes: dict[str, V2ModelServer] | None = None,
        extend_event: bool = False,
        executor_type: str | None = None,
        **class_args: Any,
    ) -> None:
        super().__init__(context, name, routes, **class_args)
        mode = str(executor_type or "thread")
        if mode not in MODES:
            raise ConfigError(
                f"ParallelRun '{self.name}': executor_type must be one of {', '.join(MODES)} "
                f"(got {executor_type!r})"
            )
        self.extend_event = bool(extend_event)
        self.executor_type = mode
        self.step_children: dict[str, Callable[[Any], Any]] = {}
        """Plain step children (MLRun): route key → ``call(body) -> dict``."""
        self._processes: ProcessPoolExecutor | None = None
        self._id = next(_ids)

    def add_step_child(self, key: str, call: Callable[[Any], Any]) -> None:
        """A child that is a step, not a model: it gets the body and answers a dict."""
        if key in self.step_children or key in self.routes:
            raise ConfigError(f"ParallelRun '{self.name}': child {key!r} is added twice")
        self.step_children[key] = call

    def freeze(self) -> None:
        if not self.step_children:
            super().freeze()
            return
        if self.routes:
            raise ConfigError(
                f"ParallelRun '{self.name}' mixes models ({', '.join(self.routes)}) and steps "
                f"({', '.join(self.step_children)}); use one kind of child"
            )
        self.dispatch = self._run_steps  # type: ignore[method-assign]

    def _run_steps(self, event: Event) -> Response:
        body = event.body
        if is_raw(body, event.content_type) or body is None:
            body = decode_body(body, content_type=event.content_type) if body else {}
        if not isinstance(body, dict):
            raise BadRequest(f"ParallelRun '{self.name}' takes a JSON object (got {body!r})")
        results = self._results(body)
        merged: dict[str, Any] = dict(body) if self.extend_event else {}
        for key, value in results.items():
            if value is None:
                continue
            if not isinstance(value, dict):
                raise ModelError(
                    f"child {key!r} of ParallelRun '{self.name}' answered "
                    f"{type(value).__name__}; children answer dicts, which are merged"
                )
            merged.update(value)
        return Response(merged)

    def _results(self, body: dict[str, Any]) -> dict[str, Any]:
        children = self.step_children
        if self.executor_type == "array":
            return {key: call(dict(body)) for key, call in children.items()}
        if self.executor_type == "thread":
            pool = shared_pool()
            futures = {key: pool.submit(call, dict(body)) for key, call in children.items()}
            return {key: future.result() for key, future in futures.items()}
        processes = self._process_pool()
        waiting = {key: processes.submit(_run_in_process, self._id, key, body) for key in children}
        return {key: future.result() for key, future in waiting.items()}

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._processes is None:
            _RUNNERS[self._id] = self
            workers = min(len(self.step_children), os.cpu_count() or 1)
            self._processes = ProcessPoolExecutor(workers, multiprocessing.get_context("fork"))
            weakref.finalize(self, _shutdown, self._processes, self._id)
        return self._processes

    def close(self) -> None:
        if self._processes is not None:
            _shutdown(self._processes, self._id)
            self._processes = None

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


def _shutdown(pool: ProcessPoolExecutor, router_id: int) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    _RUNNERS.pop(router_id, None)


def _equal(a: Any, b: Any) -> bool:
    import numpy as np  # noqa: PLC0415 - only when used, so `import nuserve` stays light

    try:
        return bool(np.array_equal(a, b))
    except Exception:  # noqa: BLE001 - values numpy cannot compare are different
        return a is b
