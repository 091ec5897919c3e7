"""Timestamps along one streamed completion inside a running ``nuserve serve`` worker.

``ProbedLLModel`` is ``LLModel`` that, once loaded, wraps the functions a streamed
``/v1/completions`` passes through with ``time.perf_counter()`` marks (CLOCK_MONOTONIC on
Linux: the bench process reads the same clock) and appends one JSON line of marks per POST
to ``$NUSERVE_PROBE_FILE``. Only the first time a mark is reached in a request counts. The
wrappers add a few microseconds of their own (an async generator layer around the engine's
stream, a generator around ``Llama.generate``); bench/llm.py ``--stages`` reads the lines.

Marks, in order: ``accept`` (``connection_made``), ``recv`` (the request's first bytes read),
``app`` (the ASGI app called: head parsed), ``body`` (body read), ``event`` (the event made),
``graph`` (``GraphServer.run_async``), ``handler`` (the completions handler parses the JSON),
``engine`` (``LlamaEngine.generate`` entered), ``started`` (its ``STARTED``: the decode is
submitted), ``thread`` (the worker thread runs),
``generate`` (``Llama.generate`` entered), ``eval0``/``eval1`` (the prompt's decode),
``token`` (the first token sampled), ``put`` (the first piece handed to the loop), ``item``
(the loop has it), ``stream_out`` (the response's chunks start), ``head_sent``,
``chunk_sent`` (the first body chunk written).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

import orjson

from nuserve.llm.model import LLModel

PENDING: dict[str, float] = {}
"""The connection's marks, before its request reaches the app."""
MARKS: dict[str, float] = {}
"""The request's marks (a new dict per request: the next connection may come before the
last request's app call returned)."""
_installed = False


def mark(name: str) -> None:
    MARKS.setdefault(name, time.perf_counter())


def _write(marks: dict[str, float]) -> None:
    path = os.environ.get("NUSERVE_PROBE_FILE")
    if path and marks:
        with open(path, "ab") as file:
            file.write(orjson.dumps(marks) + b"\n")


def install() -> None:
    global _installed  # noqa: PLW0603
    if _installed:
        return
    _installed = True
    import llama_cpp  # noqa: PLC0415

    import nuserve.llm.llama as llama_mod  # noqa: PLC0415
    import nuserve.llm.openai as openai_mod  # noqa: PLC0415
    import nuserve.serve.app as app_mod  # noqa: PLC0415
    from nuserve.llm.engine import STARTED  # noqa: PLC0415
    from nuserve.llm.llama import LlamaEngine  # noqa: PLC0415
    from nuserve.serve.connection import HeadLimitedProtocol  # noqa: PLC0415
    from nuserve.server.graph_server import GraphServer  # noqa: PLC0415

    made = HeadLimitedProtocol.connection_made

    def connection_made(self: Any, transport: Any) -> None:
        PENDING.clear()
        PENDING["accept"] = time.perf_counter()
        made(self, transport)

    HeadLimitedProtocol.connection_made = connection_made  # type: ignore[method-assign]
    received = HeadLimitedProtocol.data_received

    def data_received(self: Any, data: bytes) -> None:
        PENDING.setdefault("recv", time.perf_counter())
        received(self, data)

    HeadLimitedProtocol.data_received = data_received  # type: ignore[method-assign]
    called = app_mod.App.__call__

    async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
        global MARKS  # noqa: PLW0603
        if scope["type"] != "http" or scope["method"] != "POST":
            await called(self, scope, receive, send)
            return
        MARKS = marks = {**PENDING, "app": time.perf_counter()}
        PENDING.clear()
        await called(self, scope, receive, send)
        _write(marks)

    app_mod.App.__call__ = call  # type: ignore[method-assign]
    read_body = app_mod._read_body

    async def _read_body(*args: Any) -> Any:
        raw = await read_body(*args)
        mark("body")
        return raw

    app_mod._read_body = _read_body
    request_event = app_mod.request_event

    def made_event(*args: Any) -> Any:
        out = request_event(*args)
        mark("event")
        return out

    app_mod.request_event = made_event
    run_async = GraphServer.run_async

    async def graph(self: Any, event: Any) -> Any:
        mark("graph")
        return await run_async(self, event)

    GraphServer.run_async = graph  # type: ignore[method-assign]
    json_body = openai_mod.json_body

    def handler_body(raw: Any) -> Any:
        mark("handler")
        return json_body(raw)

    openai_mod.json_body = handler_body
    generate = LlamaEngine.generate

    async def engine(self: Any, *args: Any) -> AsyncGenerator[Any, None]:
        mark("engine")
        pieces = generate(self, *args)
        try:
            async for item in pieces:
                mark("started" if item is STARTED else "item")
                yield item
        finally:
            await pieces.aclose()

    LlamaEngine.generate = engine  # type: ignore[method-assign]
    run = LlamaEngine._run

    def worker(self: Any, *args: Any) -> None:
        mark("thread")
        run(self, *args)

    LlamaEngine._run = worker  # type: ignore[method-assign]
    putter = llama_mod._putter

    def first_putter(*args: Any) -> Callable[[Any], None]:
        put = putter(*args)

        def first_put(item: Any) -> None:
            mark("put")
            put(item)

        return first_put

    llama_mod._putter = first_putter
    llama_generate = llama_cpp.Llama.generate

    @functools.wraps(llama_generate)
    def generate_tokens(self: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
        mark("generate")
        steps = llama_generate(self, *args, **kwargs)
        try:
            for token in steps:
                mark("token")
                yield token
        finally:
            steps.close()

    llama_cpp.Llama.generate = generate_tokens  # type: ignore[method-assign]
    llama_eval = llama_cpp.Llama.eval

    def evaluate(self: Any, tokens: Any) -> None:
        mark("eval0")
        llama_eval(self, tokens)
        mark("eval1")

    llama_cpp.Llama.eval = evaluate  # type: ignore[method-assign]
    stream_out = app_mod.stream_out

    async def streamed(status: int, headers: Any, chunks: Any, receive: Any, send: Any) -> int:
        mark("stream_out")

        async def sent(message: Any) -> None:
            await send(message)
            mark("head_sent" if message["type"] == "http.response.start" else "chunk_sent")

        return await stream_out(status, headers, chunks, receive, sent)

    app_mod.stream_out = streamed


class ProbedLLModel(LLModel):
    """``LLModel`` with the probe installed in its worker."""

    def load(self) -> None:
        super().load()
        install()
