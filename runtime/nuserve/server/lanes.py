"""Lanes: where sync user code runs when requests have a timeout, so the loop can give up.

A sync hook cannot be interrupted: on the event loop, a ``predict`` that hangs holds every
other request of the worker with it. With ``request_timeout`` set, the server
(``GraphServer.run_async``) hands each call that runs sync user code to a *lane* and waits
for it with a timeout; the loop stays free for other requests, health checks and metrics.

Each model has a lane: one thread running its calls one at a time, in order, as they would
run on the loop (a model is never called concurrently with itself, as under Nuclio's sync
handler). A flow, or a call that names no model, goes to the server's shared lane.

When a call overruns, the client gets a 504 and the call is *abandoned*: Python cannot stop
a thread, so it is left to finish or to hang, and a new thread takes over the lane's queue,
so the model's next requests are answered. An abandoned thread that comes back exits (its
answer is dropped). At most ``max_stuck`` abandoned threads of a lane may be alive at once:
beyond that, the lane refuses calls with a 503 (``NotReady``: another worker may answer)
until one comes back, which bounds the threads, and the memory they hold, that one hanging
model can pile up. ``timed_out`` and ``stuck()`` count them; Nuclio's own ``eventTimeout``,
set from the same setting, is the backstop that restarts a worker whose threads stay stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Any

from nuserve.errors import NotReady
from nuserve.event import Event
from nuserve.model.v2_model_server import V2ModelServer
from nuserve.routers.router import ModelRouter

MAX_STUCK = 4
"""Abandoned (overrun) threads a lane keeps alive before it refuses calls."""
log = logging.getLogger("nuserve.server.lanes")


class Call:
    """A call in a lane; its answer goes to ``waiter``, an asyncio future of ``loop`` (set
    through ``call_soon_threadsafe``, the cheapest hop back), or else to ``future``."""

    __slots__ = ("arg", "dropped", "finished", "function", "future", "loop", "thread", "waiter")

    def __init__(
        self,
        function: Callable[[Any], Any],
        arg: Any,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.function = function
        self.arg = arg
        self.loop = loop
        self.waiter: asyncio.Future[Any] | None = None if loop is None else loop.create_future()
        self.future: Future[Any] | None = Future() if loop is None else None
        self.thread: threading.Thread | None = None
        """The thread running it, once started."""
        self.dropped = False
        """It overran before it started: the lane skips it."""
        self.finished = False

    def settle(self, ok: bool, value: Any) -> None:
        if self.future is not None:
            if ok:
                self.future.set_result(value)
            else:
                self.future.set_exception(value)
        elif self.loop is not None and self.waiter is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits now
                self.loop.call_soon_threadsafe(_settle, self.waiter, ok, value)


def _settle(waiter: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if waiter.done():
        return  # the request gave up (timed out, or was cancelled)
    if ok:
        waiter.set_result(value)
    else:
        waiter.set_exception(value)


def expire(future: asyncio.Future[Any]) -> None:
    """The timer of a call awaited on a loop: fail its future with ``TimeoutError``."""
    if not future.done():
        future.set_exception(TimeoutError())


class Lane:
    """One thread running calls in order; ``overran`` abandons it to a new one."""

    def __init__(self, name: str, max_stuck: int = MAX_STUCK) -> None:
        self.name = name
        self.max_stuck = max_stuck
        self.timed_out = 0
        """Calls that overran their timeout (each answered 504)."""
        self._queue: SimpleQueue[Call | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._abandoned: list[threading.Thread] = []
        self._closed = False

    def submit(self, function: Callable[[Any], Any], arg: Any) -> tuple[Call, Future[Any]]:
        """Queue ``function(arg)``; the future gets its result or exception. Raises
        ``NotReady`` when too many calls are stuck."""
        call = self._put(Call(function, arg))
        assert call.future is not None
        return call, call.future

    def submit_async(
        self, function: Callable[[Any], Any], arg: Any, loop: asyncio.AbstractEventLoop
    ) -> tuple[Call, asyncio.Future[Any]]:
        """The same, answered in an asyncio future of ``loop`` (call from its thread)."""
        call = self._put(Call(function, arg, loop))
        assert call.waiter is not None
        return call, call.waiter

    def _put(self, call: Call) -> Call:
        if self._thread is None:
            self._start()
        self._queue.put(call)
        return call

    def overran(self, call: Call) -> None:
        """``call`` overran its timeout: skip it if it had not started, else abandon its
        thread and start another on the queue (unless ``max_stuck`` are stuck already)."""
        self.timed_out += 1
        with self._lock:
            if call.thread is None:
                call.dropped = True
                return
            if call.finished or call.thread is not self._thread:
                return  # it just finished, or its thread was abandoned already
            self._abandoned.append(call.thread)
            self._thread = None
            stuck = len(self._abandoned)
        log.warning(
            "%s: a call overran request_timeout and was abandoned in its thread (%s); "
            "%d abandoned call(s) of it may still run in this worker",
            self.name,
            call.thread.name,
            stuck,
        )
        self._start(refuse=False)

    def stuck(self) -> int:
        """Abandoned threads still running their overrun call."""
        with self._lock:
            self._abandoned = [t for t in self._abandoned if t.is_alive()]
            return len(self._abandoned)

    def close(self) -> None:
        """Let the lane's thread end once the calls queued before this one are run."""
        with self._lock:
            self._closed = True
            if self._thread is not None:
                self._queue.put(None)

    def _start(self, refuse: bool = True) -> None:
        """Start the lane's thread; with too many stuck, raise ``NotReady`` (or, with
        ``refuse=False``, start none: the next call or a thread that comes back will)."""
        if self.stuck() >= self.max_stuck:
            if not refuse:
                return
            raise NotReady(
                f"{self.name}: {self.max_stuck} calls are still running past the request "
                "timeout; new calls are refused until one ends (restart the worker if none does)",
                retry_after=5,
            )
        with self._lock:
            if self._thread is not None or self._closed:
                return
            thread = threading.Thread(target=self._run, name=f"nuserve-{self.name}", daemon=True)
            self._thread = thread
        thread.start()

    def _run(self) -> None:
        me = threading.current_thread()
        queue, lock = self._queue, self._lock
        while True:
            call = queue.get()
            if call is None:
                return
            with lock:
                if call.dropped:
                    continue
                call.thread = me
            try:
                ok, value = True, call.function(call.arg)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                ok, value = False, exc
            with lock:
                call.finished = True
                mine = self._thread is me
            call.settle(ok, value)
            if not mine and not self._rejoin(me):
                return  # abandoned: it takes no more calls

    def _rejoin(self, me: threading.Thread) -> bool:
        """An abandoned thread came back: it serves the lane again if the lane has none."""
        with self._lock:
            if self._thread is not None or self._closed:
                return False
            self._thread = me
            self._abandoned = [t for t in self._abandoned if t is not me]
            return True


class Lanes:
    """The lanes of one server: one per model (made on first use), and one shared."""

    def __init__(self, root: object, function: str, max_stuck: int = MAX_STUCK) -> None:
        self.root = root
        self.max_stuck = max_stuck
        self.shared = Lane(f"function '{function}'", max_stuck)
        """For flows (their steps may call anything) and for roots that are not routers."""
        self._by_model: dict[V2ModelServer, Lane] = {}
        self.cancelled = 0
        """Async calls cancelled at the timeout (awaited on the loop, no lane involved)."""

    def pick(self, event: Event) -> tuple[Lane | None, str]:
        """The lane of the sync user code ``event`` runs, and what the event is for (``model
        'm'``, for messages). No lane when it runs none (health, metadata, listing) or only
        async hooks, which the loop awaits with the timeout.

        Routing errors (404, 405, a body naming no model) raise here, on the loop.
        """
        root = self.root
        if not isinstance(root, ModelRouter):
            if getattr(root, "engine", "sync") == "async":
                return None, self.shared.name
            return self.shared, self.shared.name
        model, op, _, mounted = root.resolve(event)
        if model is None or mounted is not None:  # a front end's handler is async
            return None, f"the request to {event.path}"
        lane = self._by_model.get(model)
        if lane is None:
            key = model.name + (f":{model.version}" if model.version else "")
            lane = self._by_model[model] = Lane(f"model '{key}'", self.max_stuck)
        if event.method != "POST" or (model.is_async and not op.startswith("op_")):
            return None, lane.name  # a read, a 405, or async hooks the loop awaits
        return lane, lane.name

    def lanes(self) -> list[Lane]:
        return [self.shared, *self._by_model.values()]

    def stats(self) -> dict[str, int]:
        """``timed_out``: requests answered 504 so far; ``stuck``: abandoned threads running."""
        lanes = self.lanes()
        return {
            "timed_out": self.cancelled + sum(lane.timed_out for lane in lanes),
            "stuck": sum(lane.stuck() for lane in lanes),
        }

    def close(self) -> None:
        for lane in self.lanes():
            lane.close()
