"""LLModel: a generative model served like any other (MLRun's name), by an engine.

``add_model("tiny", class_name="LLModel", model_path="tiny.gguf")`` serves a GGUF file with
llama-cpp-python; ``engine="openai", model_url="http://host/v1"`` serves an upstream
OpenAI-compatible server (vLLM on a GPU, for one) under this function's name. Every answer
carries its token usage. Generation parameters come from the class args (``generation=``),
then the model spec's parameters, then the request. A ``prompt_template`` with placeholders
turns ``/infer`` inputs (one dict of values per row) into prompts.

The OpenAI-compatible endpoints (``nuserve.llm.openai``) and the generate extension
(``nuserve.llm.generate``) call ``stream`` and ``complete``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from nuserve.context import ServingContext
from nuserve.errors import BadRequest, ConfigError
from nuserve.llm.admission import Admission
from nuserve.llm.engine import Done, Engine, Item, Prompt, Started
from nuserve.llm.params import GenerationParams
from nuserve.llm.templates import PromptTemplate
from nuserve.model.v2_model_server import V2ModelServer

ENGINES = ("llama", "openai")


@dataclass
class Completion:
    """One generation, joined: its text, why it stopped, and its tokens."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    first_token_s: float | None = None
    """Seconds from the start to the first piece (time to first token)."""

    def usage(self) -> dict[str, int]:
        return usage(self.prompt_tokens, self.completion_tokens)


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


class LLModel(V2ModelServer):
    """A generative model: text in, text out, streamed or whole."""

    generative = True
    """Marks the models the OpenAI-compatible front end serves (``GraphServer`` mounts it)."""

    def __init__(
        self,
        context: ServingContext | None = None,
        name: str | None = None,
        model_path: str | None = None,
        engine: str | Engine = "llama",
        model_url: str | None = None,
        upstream_model: str | None = None,
        api_key: str | None = None,
        prompt_template: str | list[dict[str, str]] | None = None,
        generation: dict[str, Any] | None = None,
        n_ctx: int = 0,
        slots: int = 1,
        max_queue: int = 16,
        threads: int | None = None,
        chat_template: str | None = None,
        **class_args: Any,
    ) -> None:
        super().__init__(context, name, model_path, **class_args)
        if isinstance(engine, str) and engine not in ENGINES:
            raise ConfigError(f"LLModel engine must be one of {ENGINES} (got {engine!r})")
        self.engine_kind = engine
        self.model_url = model_url
        self.upstream_model = upstream_model
        self.api_key = api_key
        self.template = PromptTemplate(prompt_template) if prompt_template is not None else None
        self.generation = dict(generation or {})
        self.n_ctx, self.slots, self.threads = n_ctx, slots, threads
        self.chat_template = chat_template
        self.admission = Admission(slots, max_queue)
        self.engine: Engine | None = None if isinstance(engine, str) else engine
        self.defaults = GenerationParams()
        self.request_timeout: float | None = None
        """Seconds a generation may run (the serving spec's ``request_timeout``)."""
        self.created = int(time.time())

    def load(self) -> None:
        if self.engine is None:
            self.engine = self.open_engine()
        spec = self.model_spec.parameters if self.model_spec is not None else {}
        self.defaults = GenerationParams().merged(dict(spec.get("generation") or {}))
        self.defaults = self.defaults.merged(self.generation)
        if self.template is None and spec.get("prompt_template") is not None:
            self.template = PromptTemplate(spec["prompt_template"])

    def open_engine(self) -> Engine:
        if self.engine_kind == "openai":
            from nuserve.llm.upstream import UpstreamEngine  # noqa: PLC0415 - this engine only

            if not self.model_url:
                raise ConfigError(f"LLModel {self.name!r} with engine='openai' needs model_url")
            return UpstreamEngine(self.model_url, self.upstream_model or self.name, self.api_key)
        from nuserve.llm.llama import LlamaEngine  # noqa: PLC0415 - this engine only

        path = self.model_path or ""
        if path and not path.endswith(".gguf"):
            path, _ = self.get_model(".gguf")
        return LlamaEngine(path, self.n_ctx, self.slots, self.threads, self.chat_template)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def params(self, values: dict[str, Any]) -> GenerationParams:
        return self.defaults.merged(values)

    # ----- generation ---------------------------------------------------------------------

    async def stream(self, prompt: Prompt, params: GenerationParams) -> AsyncGenerator[Item, None]:
        """Text pieces, then one ``Done``, maybe after a ``STARTED`` (the engine's: the prompt
        is checked); waits for a slot (503 when the line is full)."""
        engine = self.engine
        if engine is None:
            self.check_ready()
            raise ConfigError(f"model {self.name!r} has no engine")
        deadline = None if self.request_timeout is None else time.monotonic() + self.request_timeout
        async with (
            self.admission.slot(),
            contextlib.aclosing(engine.generate(prompt, params, deadline)) as pieces,
        ):
            async for item in pieces:
                yield item

    async def complete(self, prompt: Prompt, params: GenerationParams) -> Completion:
        """One whole generation."""
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        done = Done("stop", 0, 0)
        async with contextlib.aclosing(self.stream(prompt, params)) as pieces:
            async for item in pieces:
                if isinstance(item, Done):
                    done = item
                elif not isinstance(item, Started):
                    if first is None:
                        first = time.perf_counter() - started
                    parts.append(item)
        return Completion(
            "".join(parts), done.finish_reason, done.prompt_tokens, done.completion_tokens, first
        )

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        if self.engine is None:
            self.check_ready()
            raise ConfigError(f"model {self.name!r} has no engine")
        return await self.engine.embed(texts)

    def prompt_of(self, row: Any) -> Prompt:
        """One ``/infer`` row as a prompt: values for the template, or the prompt itself."""
        if isinstance(row, dict):
            if self.template is None:
                if isinstance(row.get("messages"), list):
                    return Prompt(messages=row["messages"])
                if isinstance(row.get("prompt"), str):
                    return Prompt(text=row["prompt"])
                raise BadRequest(
                    f"model '{self.name}' has no prompt_template: send each input as a prompt "
                    "string, or {'prompt': ...} or {'messages': [...]}"
                )
            return self.template.render(row)
        if isinstance(row, str):
            return self.template.render({"input": row}) if self.template else Prompt(text=row)
        raise BadRequest(f"model '{self.name}' takes text or a dict of prompt values per input")

    async def predict(self, request: dict[str, Any]) -> Any:
        """``/infer``: one completion per input, each with its usage."""
        params = self.params(request.get("parameters") or {})
        outputs = []
        for row in request["inputs"]:
            done = await self.complete(self.prompt_of(row), params)
            outputs.append(
                {"text": done.text, "finish_reason": done.finish_reason, "usage": done.usage()}
            )
        return outputs

    def validate(self, request: dict[str, Any], operation: str) -> dict[str, Any]:
        inputs = request.get("inputs") if isinstance(request, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise BadRequest(
                f"request to model '{self.name}' needs 'inputs': a list of prompts, or of "
                "dicts of prompt-template values"
            )
        return request

    def metadata(self) -> dict[str, Any]:
        body = super().metadata()
        if self.engine is not None:
            body["engine"] = self.engine.describe()
        return body
