"""Calling several models at once: the shared thread pool and the per-child call.

A router calls each child through the same entry the server's dispatch uses (the child's
tracker when tracking is on, else ``infer`` or ``infer_async``), so children are tracked,
batched and readiness-checked as if they had been asked directly. Sync children run in one
shared, bounded thread pool; async ones are awaited together with ``asyncio.gather``.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from nuserve.aio import run_sync
from nuserve.event import Event, Response
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.protocols import ROWS

POOL_THREADS = 64
"""Threads shared by every router of the process (children of a request run side by side;
more requests than threads queue rather than grow the process)."""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> ThreadPoolExecutor:
    """The process-wide pool, created on first use (after any fork of the worker)."""
    global _pool  # noqa: PLW0603 - one pool per process, created lazily
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="nuserve-router")
    return _pool


def _forget_pool() -> None:
    """A forked child inherits the pool object but none of its threads: start afresh."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def route_key(model: V2ModelServer) -> str:
    """The ``add_model`` key of a model: ``name`` or ``name:version``."""
    return f"{model.name}:{model.version}" if model.version else model.name


def call_sync(model: V2ModelServer, event: Event, operation: str) -> Response:
    """One child, synchronously (the request's thread or a pool thread).

    The request is already decoded by the router, so the child gets it as MLRun rows (the
    format its hooks speak) and answers its raw response dict, which the router merges.
    """
    tracker = model.tracker
    result: Response | Awaitable[Response]
    if tracker is not None:
        result = tracker.run(model, event, operation, ROWS)
    elif model.is_async:
        result = model.infer_async(event, operation, ROWS)
    else:
        return model.infer(event, operation, ROWS)
    if isinstance(result, Response):
        return result
    return run_sync(result)  # an async child called from sync code


def run_all(
    models: list[V2ModelServer], events: list[Event], operation: str
) -> list[Response | BaseException]:
    """Every model's answer (or error), in order: the first on this thread, the others in
    the pool.

    A child that no pool thread has started by the time this thread is free again is taken
    back and run here: fast children then cost no thread hand-off, and a busy pool delays a
    request instead of stalling it.
    """
    pool = shared_pool()
    futures: list[Future[Response]] = [
        pool.submit(call_sync, model, event, operation)
        for model, event in zip(models[1:], events[1:], strict=True)
    ]
    outcomes: list[Response | BaseException | None] = [_outcome(models[0], events[0], operation)]
    for future, model, event in zip(futures, models[1:], events[1:], strict=True):
        outcomes.append(_outcome(model, event, operation) if future.cancel() else None)
    for i, future in enumerate(futures, start=1):
        if outcomes[i] is None:
            outcomes[i] = future.exception() or future.result()
    return [outcome for outcome in outcomes if outcome is not None]


def _outcome(model: V2ModelServer, event: Event, operation: str) -> Response | BaseException:
    try:
        return call_sync(model, event, operation)
    except Exception as exc:  # noqa: BLE001 - reported once every child has answered
        return exc


async def call_async(model: V2ModelServer, event: Event, operation: str, offload: bool) -> Response:
    """One child inside the event loop; sync children go to the pool when ``offload``."""
    if model.is_async:
        tracker = model.tracker
        if tracker is None:
            return await model.infer_async(event, operation, ROWS)
        result = tracker.run(model, event, operation, ROWS)
        return result if isinstance(result, Response) else await result
    if not offload:
        return call_sync(model, event, operation)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(shared_pool(), call_sync, model, event, operation)


def outputs_of(response: Response) -> Any:
    """The ``outputs`` of a child's raw response (the whole body when it has none)."""
    body = response.body
    if type(body) is dict and "outputs" in body:
        return body["outputs"]
    return body
