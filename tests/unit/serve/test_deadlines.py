"""Deadlines: late awaits are cut off by the worker's sweep, others are left alone."""

from __future__ import annotations

import asyncio

import pytest

from nuserve.serve.deadlines import Deadlines


def test_a_late_await_raises_timeout_within_a_tick() -> None:
    async def main() -> float:
        deadlines = Deadlines(0.2)
        deadlines.start()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            with pytest.raises(TimeoutError, match=r"not done within 0\.2 s"):
                await deadlines.run(asyncio.sleep(10))
            assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
            await asyncio.sleep(0)  # the task goes on normally after the timeout
            assert not deadlines.pending and not deadlines.expired
            return loop.time() - started
        finally:
            await deadlines.stop()

    took = asyncio.run(main())
    assert 0.2 <= took < 0.2 + 0.05 + 0.5


def test_prompt_awaits_get_their_result_and_leave_nothing_behind() -> None:
    async def main() -> list[int]:
        deadlines = Deadlines(0.1)
        deadlines.start()
        try:

            async def value(n: int) -> int:
                await asyncio.sleep(0.01)
                return n

            results = [await deadlines.run(value(n)) for n in range(3)]
            await asyncio.sleep(0.3)  # sweeps pass; nothing of ours is pending
            assert not deadlines.pending and not deadlines.expired
            return results
        finally:
            await deadlines.stop()

    assert asyncio.run(main()) == [0, 1, 2]


def test_a_cancellation_from_elsewhere_is_not_a_timeout() -> None:
    async def main() -> None:
        deadlines = Deadlines(10)
        deadlines.start()
        try:
            task = asyncio.create_task(deadlines.run(asyncio.sleep(10)))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not deadlines.pending
        finally:
            await deadlines.stop()

    asyncio.run(main())


def test_many_reads_cut_off_in_one_sweep() -> None:
    async def main() -> list[BaseException | None]:
        deadlines = Deadlines(0.1)
        deadlines.start()
        try:
            tasks = [asyncio.create_task(deadlines.run(asyncio.sleep(5))) for _ in range(50)]
            done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 2)
            return [d if isinstance(d, BaseException) else None for d in done]
        finally:
            await deadlines.stop()

    assert all(isinstance(e, TimeoutError) for e in asyncio.run(main()))
