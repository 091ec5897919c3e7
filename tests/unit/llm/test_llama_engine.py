"""The llama engine's stream on the tiny GGUF, called directly: ``STARTED`` first (the
request is checked and the decode submitted, so a front end may answer its head), then the
pieces and one ``Done``; the same text as a whole completion; a consumer that takes the first
piece and then waits does not hold the generation up for long, and closing frees the slot."""

from __future__ import annotations

import asyncio
import time

import pytest

from nuserve.llm.engine import STARTED, Done, Prompt
from nuserve.llm.errors import OpenAIError
from nuserve.llm.params import GenerationParams
from tests.tiny_gguf import CONTEXT

pytest.importorskip("llama_cpp")  # CI installs the llm extra (tests/run.sh): this never skips there

PARAMS = GenerationParams().merged({"max_tokens": 24, "temperature": 0})


@pytest.fixture(scope="module")
def engine(tiny_gguf):
    from nuserve.llm.llama import LlamaEngine

    engine = LlamaEngine(str(tiny_gguf), slots=1)
    yield engine
    engine.close()


async def _items(engine, prompt: Prompt, params: GenerationParams = PARAMS) -> list:
    return [item async for item in engine.generate(prompt, params, None)]


def test_started_comes_first_then_pieces_then_done(engine) -> None:
    items = asyncio.run(_items(engine, Prompt(text="the water")))
    assert items[0] is STARTED
    assert isinstance(items[-1], Done) and items[-1].completion_tokens == 24
    assert all(isinstance(i, str) for i in items[1:-1]) and len(items) > 2
    again = asyncio.run(_items(engine, Prompt(text="the water")))
    assert "".join(items[1:-1]) == "".join(again[1:-1])  # temperature 0: the same text


def test_a_bad_request_fails_before_started(engine) -> None:
    with pytest.raises(OpenAIError) as caught:
        asyncio.run(_items(engine, Prompt(text="the " * (CONTEXT + 10))))
    assert caught.value.status == 400
    schema = PARAMS.merged({})
    schema.json_schema = {"type": "foo"}
    with pytest.raises(OpenAIError) as caught:
        asyncio.run(_items(engine, Prompt(text="the"), schema))
    assert caught.value.status == 400 and caught.value.param == "response_format"


def test_a_slow_consumer_does_not_stall_the_generation_and_closing_frees_the_slot(engine) -> None:
    long = PARAMS.merged({"max_tokens": 240})

    async def scenario() -> tuple[float, float]:
        began = time.perf_counter()
        assert len(await _items(engine, Prompt(text="the water"), long)) > 2
        whole = time.perf_counter() - began
        pieces = engine.generate(Prompt(text="the water"), long, None)
        assert await anext(pieces) is STARTED
        assert isinstance(await anext(pieces), str)
        await asyncio.sleep(max(0.5, 2 * whole))  # the worker waits for it 5 ms at most
        began = time.perf_counter()
        rest = [item async for item in pieces]
        assert isinstance(rest[-1], Done) and rest[-1].completion_tokens == 240
        return time.perf_counter() - began, whole

    rest, whole = asyncio.run(scenario())
    assert rest < whole / 3, (rest, whole)  # the rest was made while the consumer slept

    async def leave() -> None:
        pieces = engine.generate(Prompt(text="the water"), PARAMS, None)
        await anext(pieces)
        await pieces.aclose()

    asyncio.run(leave())
    assert len(asyncio.run(_items(engine, Prompt(text="the")))) > 2  # the one slot is free
