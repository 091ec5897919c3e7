"""The OpenAI-compatible front end: ``/v1/models``, ``/v1/chat/completions``,
``/v1/completions``, ``/v1/embeddings`` and ``/v1/responses``, for every ``LLModel``.

Mounted on the graph's router (``ModelRouter.mount``) by the server, so ``nuserve serve``, the
Nuclio handler and the mock server answer them alike. The prefix is the router's
``openai_prefix`` class arg (``/v1`` by default; ``/openai/v1`` as KServe serves it). Streams
are Server-Sent Events as OpenAI writes them; ``stream_options.include_usage`` adds a last
chunk with the usage and no choices. Errors are in OpenAI's shape with their status: a missing
field is a 400 naming it, an unknown model a 404, a prompt over the context a 400 with the
limit, a full queue a 503 with ``Retry-After``.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import struct
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from nuserve.errors import NuserveError
from nuserve.event import Event, Response, Stream
from nuserve.llm import sse
from nuserve.llm.engine import Done, Item, Prompt, Started
from nuserve.llm.errors import OpenAIError, bad_field, error_body, error_response
from nuserve.llm.meter import Meter
from nuserve.llm.model import LLModel, usage
from nuserve.llm.params import GenerationParams, schema_of
from nuserve.llm.requests import (
    flag,
    include_usage,
    json_body,
    messages_of,
    prompt_of,
    required,
    text_of,
)
from nuserve.routers.router import ModelRouter

DEFAULT_PREFIX = "/v1"
Handler = Callable[[Event], "Response | Awaitable[Response]"]
OnRecord = Callable[[LLModel, dict[str, Any]], None]
log = logging.getLogger("nuserve.llm")


class OpenAIFrontend:
    """The endpoints for a set of generative models, under one prefix."""

    def __init__(
        self,
        models: dict[str, LLModel],
        prefix: str = DEFAULT_PREFIX,
        on_record: OnRecord | None = None,
    ) -> None:
        self.models = models
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.on_record = on_record

    def mount(self, router: ModelRouter) -> None:
        p = self.prefix
        router.mount(f"{p}/models", self._route("GET", self.list_models))
        for name, model in self.models.items():
            router.mount(f"{p}/models/{name}", self._route("GET", self._model_info(name)), model)
        router.mount(f"{p}/chat/completions", self._route("POST", self.chat))
        router.mount(f"{p}/completions", self._route("POST", self.completions))
        router.mount(f"{p}/embeddings", self._route("POST", self.embeddings))
        router.mount(f"{p}/responses", self._route("POST", self.responses))

    def _route(self, method: str, answer: Callable[[Event], Awaitable[Response]]) -> Handler:
        async def guarded(event: Event) -> Response:
            try:
                if event.method != method and not (method == "GET" and event.method == "HEAD"):
                    raise OpenAIError(
                        f"{event.path} accepts {method}, not {event.method[:20]}",
                        405,
                        headers={"Allow": method},
                    )
                return await answer(event)
            except NuserveError as exc:
                if exc.status >= 500:
                    log.warning("event %s failed (%d): %s", event.id, exc.status, exc.message)
                return error_response(exc, event.id)
            except Exception as exc:
                log.exception("event %s: internal error", event.id)
                message = f"internal error: {type(exc).__name__}: {exc}"
                return error_response(OpenAIError(message, 500), event.id)

        return guarded

    # ----- models -------------------------------------------------------------------------

    def model_card(self, model: LLModel) -> dict[str, Any]:
        return {
            "id": model.name,
            "object": "model",
            "created": model.created,
            "owned_by": "nuserve",
        }

    async def list_models(self, event: Event) -> Response:
        return Response(
            {"object": "list", "data": [self.model_card(m) for m in self.models.values()]}
        )

    def _model_info(self, name: str) -> Callable[[Event], Awaitable[Response]]:
        async def info(event: Event) -> Response:
            return Response(self.model_card(self.models[name]))

        return info

    def pick(self, body: dict[str, Any]) -> LLModel:
        name = body.get("model")
        if name is None and len(self.models) == 1:
            name = next(iter(self.models))
        name = required(body, "model") if name is None else name
        model = self.models.get(name) if isinstance(name, str) else None
        if model is None:
            known = ", ".join(sorted(self.models)) or "none"
            raise OpenAIError(
                f"the model {str(name)[:80]!r} does not exist (models: {known})",
                404,
                "model",
                "model_not_found",
            )
        model.check_ready()
        return model

    # ----- chat and completions -----------------------------------------------------------

    async def chat(self, event: Event) -> Response:
        body = json_body(event.body)
        messages = messages_of(body)
        model = self.pick(body)
        params = model.params(body)
        return await self._generation(
            event, body, model, Prompt(messages=messages), params, chat=True
        )

    async def completions(self, event: Event) -> Response:
        body = json_body(event.body)
        prompt = prompt_of(body)
        model = self.pick(body)
        params = model.params(body)
        return await self._generation(event, body, model, prompt, params, chat=False)

    async def _generation(
        self,
        event: Event,
        body: dict[str, Any],
        model: LLModel,
        prompt: Prompt,
        params: GenerationParams,
        chat: bool,
    ) -> Response:
        ident = ("chatcmpl-" if chat else "cmpl-") + event.id
        meter = Meter(model.name, "chat.completions" if chat else "completions")
        meter.stream = flag(body, "stream")
        pieces = choices(model, prompt, params)
        try:  # a bad prompt fails here, with its status; a stream answers its head after
            first = await anext(pieces)
        except BaseException:
            await pieces.aclose()
            raise
        writer = ChunkWriter(
            ident, model.name, chat, include_usage(body) if meter.stream else False
        )
        if meter.stream:
            chunks = self._metered(writer.stream(first, pieces, meter), meter)
            return Response(Stream(chunks, sse.MEDIA_TYPE), content_type=sse.MEDIA_TYPE)
        async with contextlib.aclosing(pieces):
            answer = await writer.whole(first, pieces, meter)
        self.recorded(meter)
        return Response(answer)

    async def _metered(
        self, chunks: AsyncGenerator[bytes, None], meter: Meter
    ) -> AsyncGenerator[bytes, None]:
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    yield chunk
        finally:
            self.recorded(meter)

    def recorded(self, meter: Meter) -> None:
        if self.on_record is not None:
            try:
                model = self.models.get(meter.model)
                if model is not None:
                    self.on_record(model, meter.record())
            except Exception:
                log.exception("LLM tracking record failed")

    # ----- embeddings ---------------------------------------------------------------------

    async def embeddings(self, event: Event) -> Response:
        body = json_body(event.body)
        given = required(body, "input")
        texts = [given] if isinstance(given, str) else given
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise bad_field("input", "'input' must be a string or a non-empty list of strings")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise bad_field("encoding_format", "'encoding_format' must be float or base64")
        model = self.pick(body)
        vectors, tokens = await model.embed(texts)
        dimensions = body.get("dimensions")
        if dimensions is not None:
            if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
                raise bad_field("dimensions", "'dimensions' must be a positive integer")
            vectors = [v[:dimensions] for v in vectors]
        data = [
            {"object": "embedding", "index": i, "embedding": _encoded(v, encoding)}
            for i, v in enumerate(vectors)
        ]
        meter = Meter(model.name, "embeddings", prompt_tokens=tokens, finish_reason="")
        self.recorded(meter)
        return Response(
            {
                "object": "list",
                "data": data,
                "model": model.name,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # ----- responses ----------------------------------------------------------------------

    async def responses(self, event: Event) -> Response:
        body = json_body(event.body)
        given = required(body, "input")
        messages: list[dict[str, str]] = []
        instructions = body.get("instructions")
        if instructions is not None:
            messages.append({"role": "system", "content": text_of(instructions, "instructions")})
        if isinstance(given, str):
            messages.append({"role": "user", "content": given})
        elif isinstance(given, list):
            items = [
                {**item, "content": item.get("content")}
                for item in given
                if isinstance(item, dict) and item.get("type", "message") == "message"
            ]
            messages += messages_of({"input": items}, "input")
        else:
            raise bad_field("input", "'input' must be a string or a list of messages")
        model = self.pick(body)
        values = dict(body)
        text_format = (
            (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
        )
        values.pop("response_format", None)
        params = model.params(values)
        if text_format is not None:
            params.json_schema = schema_of(text_format, "text.format")
        meter = Meter(model.name, "responses")
        meter.stream = flag(body, "stream")
        pieces = choices(model, Prompt(messages=messages), params)
        try:
            first = await anext(pieces)
        except BaseException:
            await pieces.aclose()
            raise
        writer = ResponseWriter("resp_" + event.id, model.name, params, instructions)
        if meter.stream:
            chunks = self._metered(writer.stream(first, pieces, meter), meter)
            return Response(Stream(chunks, sse.MEDIA_TYPE), content_type=sse.MEDIA_TYPE)
        async with contextlib.aclosing(pieces):
            answer = await writer.whole(first, pieces, meter)
        self.recorded(meter)
        return Response(answer)


async def choices(
    model: LLModel, prompt: Prompt, params: GenerationParams
) -> AsyncGenerator[tuple[int, Item], None]:
    """``n`` generations one after the other, as ``(choice index, piece or Done)``, after
    the first one's ``STARTED`` if its engine says it; choice ``i`` samples with ``seed + i``
    when a seed is given."""
    for index in range(params.n):
        choice_params = params
        if index and params.seed is not None:
            choice_params = params.merged({"seed": params.seed + index})
        async with contextlib.aclosing(model.stream(prompt, choice_params)) as pieces:
            async for item in pieces:
                if index and isinstance(item, Started):
                    continue
                yield index, item


class ChunkWriter:
    """Chat and completion answers, whole or as chunks, in OpenAI's shapes."""

    def __init__(self, ident: str, model: str, chat: bool, with_usage: bool) -> None:
        self.ident, self.model, self.chat, self.with_usage = ident, model, chat, with_usage
        self.created = int(time.time())

    def _chunk(self, choices: list[dict[str, Any]], usage_value: Any = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.ident,
            "object": "chat.completion.chunk" if self.chat else "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.with_usage:
            chunk["usage"] = usage_value
        return sse.data(chunk)

    def _choice(
        self, index: int, text: str | None, finish: str | None, role: bool = False
    ) -> dict[str, Any]:
        if self.chat:
            delta: dict[str, Any] = {}
            if role:
                delta["role"] = "assistant"
            if text is not None:
                delta["content"] = text
            return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {"index": index, "text": text or "", "logprobs": None, "finish_reason": finish}

    async def stream(
        self,
        first: tuple[int, Item],
        rest: AsyncGenerator[tuple[int, Item], None],
        meter: Meter,
    ) -> AsyncGenerator[bytes, None]:
        prompt_tokens = completion_tokens = 0
        started: set[int] = set()
        try:
            async with contextlib.aclosing(_chain(first, rest)) as items:
                async for index, item in items:
                    if self.chat and index not in started:
                        started.add(index)
                        yield self._chunk([self._choice(index, "", None, role=True)])
                    if isinstance(item, Done):
                        prompt_tokens = item.prompt_tokens
                        completion_tokens += item.completion_tokens
                        meter.finish_reason = item.finish_reason
                        yield self._chunk(
                            [self._choice(index, "" if not self.chat else None, item.finish_reason)]
                        )
                    else:
                        meter.piece()
                        yield self._chunk([self._choice(index, item, None)])
        except NuserveError as exc:  # mid-stream: the status is sent; the error is an event
            meter.status = exc.status
            yield sse.data(error_body(exc, self.ident))
            yield sse.DONE
            return
        finally:
            meter.prompt_tokens, meter.completion_tokens = prompt_tokens, completion_tokens
        if self.with_usage:
            yield self._chunk([], usage(prompt_tokens, completion_tokens))
        yield sse.DONE

    async def whole(
        self,
        first: tuple[int, Item],
        rest: AsyncGenerator[tuple[int, Item], None],
        meter: Meter,
    ) -> dict[str, Any]:
        texts: dict[int, list[str]] = {}
        finishes: dict[int, str] = {}
        prompt_tokens = completion_tokens = 0
        async with contextlib.aclosing(_chain(first, rest)) as items:
            async for index, item in items:
                if isinstance(item, Done):
                    finishes[index] = item.finish_reason
                    prompt_tokens = item.prompt_tokens
                    completion_tokens += item.completion_tokens
                else:
                    meter.piece()
                    texts.setdefault(index, []).append(item)
        meter.prompt_tokens, meter.completion_tokens = prompt_tokens, completion_tokens
        meter.finish_reason = ",".join(sorted(set(finishes.values())))
        out = []
        for index in sorted(finishes):
            text = "".join(texts.get(index, []))
            if self.chat:
                choice = {
                    "index": index,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": finishes[index],
                }
            else:
                choice = {
                    "index": index,
                    "text": text,
                    "logprobs": None,
                    "finish_reason": finishes[index],
                }
            out.append(choice)
        return {
            "id": self.ident,
            "object": "chat.completion" if self.chat else "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": out,
            "usage": usage(prompt_tokens, completion_tokens),
        }


class ResponseWriter:
    """The responses API's answer, whole or as its named events."""

    def __init__(self, ident: str, model: str, params: GenerationParams, instructions: Any) -> None:
        self.ident, self.model, self.params = ident, model, params
        self.instructions = instructions
        self.created = int(time.time())
        self.item_id = "msg_" + ident[5:]
        self.sequence = 0

    def response(
        self, status: str, text: str | None, tokens: tuple[int, int] | None
    ) -> dict[str, Any]:
        output: list[dict[str, Any]] = []
        if text is not None:
            output.append(self.item(text, "completed"))
        body: dict[str, Any] = {
            "id": self.ident,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "model": self.model,
            "output": output,
            "instructions": self.instructions,
            "max_output_tokens": self.params.max_tokens,
            "temperature": self.params.temperature,
            "top_p": self.params.top_p,
            "parallel_tool_calls": False,
            "tool_choice": "none",
            "tools": [],
            "error": None,
            "incomplete_details": None,
            "metadata": {},
            "usage": None,
        }
        if tokens is not None:
            body["usage"] = {
                "input_tokens": tokens[0],
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": tokens[1],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": tokens[0] + tokens[1],
            }
        return body

    def item(self, text: str, status: str) -> dict[str, Any]:
        content = (
            [{"type": "output_text", "text": text, "annotations": []}]
            if text or status == "completed"
            else []
        )
        return {
            "type": "message",
            "id": self.item_id,
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def _event(self, kind: str, **fields: Any) -> bytes:
        event = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return sse.named(kind, event)

    async def whole(
        self,
        first: tuple[int, Item],
        rest: AsyncGenerator[tuple[int, Item], None],
        meter: Meter,
    ) -> dict[str, Any]:
        parts: list[str] = []
        done = Done("stop", 0, 0)
        async with contextlib.aclosing(_chain(first, rest)) as items:
            async for _, item in items:
                if isinstance(item, Done):
                    done = item
                else:
                    meter.piece()
                    parts.append(item)
        meter.prompt_tokens, meter.completion_tokens = done.prompt_tokens, done.completion_tokens
        meter.finish_reason = done.finish_reason
        body = self.response(
            _status(done), "".join(parts), (done.prompt_tokens, done.completion_tokens)
        )
        if done.finish_reason == "length":
            body["incomplete_details"] = {"reason": "max_output_tokens"}
        return body

    async def stream(
        self,
        first: tuple[int, Item],
        rest: AsyncGenerator[tuple[int, Item], None],
        meter: Meter,
    ) -> AsyncGenerator[bytes, None]:
        yield self._event("response.created", response=self.response("in_progress", None, None))
        yield self._event("response.in_progress", response=self.response("in_progress", None, None))
        yield self._event(
            "response.output_item.added", output_index=0, item=self.item("", "in_progress")
        )
        part = {"type": "output_text", "text": "", "annotations": []}
        ids = {"item_id": self.item_id, "output_index": 0, "content_index": 0}
        yield self._event("response.content_part.added", **ids, part=part)
        parts: list[str] = []
        done = Done("stop", 0, 0)
        try:
            async with contextlib.aclosing(_chain(first, rest)) as items:
                async for _, item in items:
                    if isinstance(item, Done):
                        done = item
                    else:
                        meter.piece()
                        parts.append(item)
                        yield self._event(
                            "response.output_text.delta", **ids, delta=item, logprobs=[]
                        )
        except NuserveError as exc:
            meter.status = exc.status
            failed = self.response("failed", "".join(parts), None)
            failed["error"] = {"code": "server_error", "message": exc.message}
            yield self._event("response.failed", response=failed)
            return
        text = "".join(parts)
        meter.prompt_tokens, meter.completion_tokens = done.prompt_tokens, done.completion_tokens
        meter.finish_reason = done.finish_reason
        yield self._event("response.output_text.done", **ids, text=text, logprobs=[])
        yield self._event("response.content_part.done", **ids, part={**part, "text": text})
        yield self._event(
            "response.output_item.done", output_index=0, item=self.item(text, "completed")
        )
        final = self.response(_status(done), text, (done.prompt_tokens, done.completion_tokens))
        kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
        if kind == "response.incomplete":
            final["incomplete_details"] = {"reason": "max_output_tokens"}
        yield self._event(kind, response=final)


def _status(done: Done) -> str:
    return "incomplete" if done.finish_reason == "length" else "completed"


async def _chain(
    first: tuple[int, Item], rest: AsyncGenerator[tuple[int, Item], None]
) -> AsyncGenerator[tuple[int, str | Done], None]:
    """``first``, then ``rest``: the pieces and ``Done``s (``choices`` sends one ``STARTED``
    at most, first)."""
    index, item = first
    if not isinstance(item, Started):
        yield index, item
    async with contextlib.aclosing(rest):
        async for index, item in rest:
            if not isinstance(item, Started):
                yield index, item


def _encoded(vector: list[float], encoding: str) -> Any:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def mount_frontend(router: ModelRouter, on_record: OnRecord | None = None) -> OpenAIFrontend | None:
    """Mount the front end on ``router`` when it serves generative models (else nothing)."""
    models = {m.name: m for m in router.routes.values() if isinstance(m, LLModel) and not m.version}
    for model in router.routes.values():
        if isinstance(model, LLModel) and model.name not in models:
            models[model.name] = model
    if not models:
        return None
    prefix = router.class_args.get("openai_prefix", DEFAULT_PREFIX)
    if not isinstance(prefix, str):
        raise OpenAIError(f"openai_prefix must be a path such as '/v1' (got {prefix!r})", 500)
    frontend = OpenAIFrontend(models, prefix, on_record)
    frontend.mount(router)
    return frontend
