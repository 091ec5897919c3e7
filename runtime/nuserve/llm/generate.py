"""The Open Inference Protocol's generate extension (as Triton and KServe serve it):
``POST /v2/models/<model>/generate`` answers ``{"model_name", "text_output", ...}`` and
``/generate_stream`` sends one such object per piece as Server-Sent Events.

The body is ``{"text_input": "...", "parameters": {...}}``; with a ``prompt_template``, the
text fills ``{input}`` and ``parameters.prompt_variables`` the other placeholders. Errors here
are nuserve's ``{"error", "id"}`` (this is not the OpenAI API).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from nuserve.errors import BadRequest, NuserveError
from nuserve.event import Event, Response, Stream
from nuserve.llm import sse
from nuserve.llm.engine import Done, Item, Prompt, Started
from nuserve.llm.model import LLModel, usage
from nuserve.llm.requests import json_body
from nuserve.routers.router import ModelRouter

Handler = Callable[[Event], "Response | Awaitable[Response]"]


def _request(model: LLModel, event: Event) -> tuple[Prompt, Any]:
    body = json_body(event.body)
    text = body.get("text_input")
    if not isinstance(text, str):
        raise BadRequest(
            f"generate request to model '{model.name}' needs 'text_input', a string "
            f"(got keys {sorted(body)})"
        )
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise BadRequest("'parameters' must be an object")
    params = model.params(parameters)
    if model.template is None:
        return Prompt(text=text), params
    values = dict(parameters.get("prompt_variables") or {})
    values.setdefault("input", text)
    return model.template.render(values, "parameters.prompt_variables"), params


def _answer(model: LLModel, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model_name": model.name, "model_version": model.version or "1"}
    body.update(fields)
    return body


def generate_handler(model: LLModel) -> Handler:
    async def generate(event: Event) -> Response:
        if event.method != "POST":
            return Response(
                {"error": f"{event.path} accepts POST", "id": event.id}, 405, {"Allow": "POST"}
            )
        try:
            prompt, params = _request(model, event)
            done = await model.complete(prompt, params)
        except NuserveError as exc:
            return Response({"error": exc.message, "id": event.id}, exc.status, dict(exc.headers))
        return Response(
            _answer(
                model,
                text_output=done.text,
                finish_reason=done.finish_reason,
                usage=done.usage(),
            )
        )

    return generate


def generate_stream_handler(model: LLModel) -> Handler:
    async def generate_stream(event: Event) -> Response:
        if event.method != "POST":
            return Response(
                {"error": f"{event.path} accepts POST", "id": event.id}, 405, {"Allow": "POST"}
            )
        try:
            prompt, params = _request(model, event)
            pieces = model.stream(prompt, params)
            try:
                first = await anext(pieces)
            except BaseException:
                await pieces.aclose()
                raise
        except NuserveError as exc:
            return Response({"error": exc.message, "id": event.id}, exc.status, dict(exc.headers))
        return Response(
            Stream(_events(model, first, pieces, event.id), sse.MEDIA_TYPE),
            content_type=sse.MEDIA_TYPE,
        )

    return generate_stream


async def _events(
    model: LLModel, first: Item, rest: AsyncGenerator[Item, None], event_id: str
) -> AsyncGenerator[bytes, None]:
    async with contextlib.aclosing(rest):
        item = first
        try:
            while True:
                if isinstance(item, Done):
                    yield sse.data(
                        _answer(
                            model,
                            text_output="",
                            finish_reason=item.finish_reason,
                            usage=usage(item.prompt_tokens, item.completion_tokens),
                        )
                    )
                elif not isinstance(item, Started):
                    yield sse.data(_answer(model, text_output=item))
                item = await anext(rest)
        except StopAsyncIteration:
            return
        except NuserveError as exc:
            yield sse.data({"error": exc.message, "id": event_id})


def mount_generate(router: ModelRouter) -> None:
    """``generate`` and ``generate_stream`` beside each generative model's other paths."""
    for model in router.routes.values():
        if not isinstance(model, LLModel):
            continue
        prefixes = [f"/v2/models/{model.name}/versions/{model.version}"] if model.version else []
        if router.default_version.get(model.name) == model.version:
            prefixes.append(f"/v2/models/{model.name}")
        for prefix in prefixes:
            router.mount(f"{prefix}/generate", generate_handler(model), model)
            router.mount(f"{prefix}/generate_stream", generate_stream_handler(model), model)
