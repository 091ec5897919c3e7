"""Slots and a bounded line: one more than both is refused at once, 503 with Retry-After."""

from __future__ import annotations

import asyncio

import pytest

from nuserve.llm.admission import Admission
from nuserve.llm.errors import OpenAIError


def test_slots_run_the_line_waits_and_one_more_is_refused() -> None:
    async def scenario() -> list[str]:
        admission = Admission(slots=1, max_queue=1)
        release = asyncio.Event()
        events: list[str] = []

        async def job(name: str) -> None:
            async with admission.slot():
                events.append(f"{name} runs")
                await release.wait()

        first = asyncio.create_task(job("a"))
        await asyncio.sleep(0)
        second = asyncio.create_task(job("b"))
        await asyncio.sleep(0)
        assert (admission.running, admission.waiting) == (1, 1)
        with pytest.raises(OpenAIError) as caught:
            async with admission.slot():
                pass
        assert caught.value.status == 503
        assert caught.value.headers == {"Retry-After": "1"}
        release.set()
        await asyncio.wait_for(asyncio.gather(first, second), 5)
        assert (admission.running, admission.waiting) == (0, 0)
        return events

    assert asyncio.run(scenario()) == ["a runs", "b runs"]
