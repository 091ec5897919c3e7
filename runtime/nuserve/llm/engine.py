"""What a generative engine offers the model and the front ends (``Engine``), and what its
stream of text carries at the end (``Done``).

An engine's ``generate`` is an async generator of text pieces that ends with one ``Done``.
It checks the prompt before the first piece (a prompt over the context is a 400 there), so a
front end that takes the first item before it answers can still answer with a status. An
engine may yield ``STARTED`` first, once the prompt is checked and nothing but generating is
left: a streaming front end answers its head then, so the client reads it while the first
token is decoded, and every other consumer skips it. Closing the generator (the client left)
stops the generation within one decode step.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from typing import Protocol as Interface

from nuserve.llm.params import GenerationParams


@dataclass
class Prompt:
    """Either a text prompt (completions) or chat messages (the engine applies its template)."""

    text: str | None = None
    messages: list[dict[str, str]] | None = None

    @property
    def param(self) -> str:
        """The request field the prompt came from, for errors."""
        return "prompt" if self.messages is None else "messages"


class Started:
    """The one ``STARTED``: the engine checked the prompt, the generation is under way."""

    def __repr__(self) -> str:
        return "STARTED"


STARTED = Started()


@dataclass
class Done:
    """The end of one generation: why it stopped, and the tokens it read and wrote."""

    finish_reason: str
    """``stop`` (end of text or a stop string) or ``length`` (``max_tokens``)."""
    prompt_tokens: int
    completion_tokens: int


Item = str | Done | Started
"""What an engine's ``generate`` yields (``Done`` last, ``STARTED`` first if at all)."""


class Engine(Interface):
    """A generative backend: llama-cpp-python (``nuserve.llm.llama``), an upstream
    OpenAI-compatible server (``nuserve.llm.upstream``), or one of the user's."""

    context_length: int | None
    """Tokens of context (prompt and completion together); ``None`` when not known here."""

    def generate(
        self, prompt: Prompt, params: GenerationParams, deadline: float | None
    ) -> AsyncGenerator[Item, None]: ...

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """One vector per text, and the tokens read."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the model listing shows of the engine."""
        ...

    def close(self) -> None: ...
