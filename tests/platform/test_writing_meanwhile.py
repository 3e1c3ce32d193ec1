"""pm_platform.db.writing_meanwhile and turns: a bulk job's pending write goes on while the job builds what comes
next, and is waited for when the block ends, also when the block fails."""

from __future__ import annotations

import asyncio

import pytest

from pm_platform.db import turns, writing_meanwhile

pytestmark = pytest.mark.unit


async def test_the_write_goes_on_between_the_turns_and_ends_with_the_block() -> None:
    seen: list[str] = []

    async def write() -> None:
        for step in range(3):
            seen.append(f"write {step}")
            await asyncio.sleep(0)

    async with writing_meanwhile(write()):
        async for item in turns(range(6), every=2):
            seen.append(f"item {item}")
    assert seen.index("write 0") < seen.index("item 2")  # the write ran at the first turn, not after the block
    assert {"write 0", "write 1", "write 2"} <= set(seen)  # done when the block is


async def test_a_failing_block_still_waits_for_the_write() -> None:
    finished: list[bool] = []

    async def write() -> None:
        await asyncio.sleep(0.01)
        finished.append(True)

    with pytest.raises(RuntimeError, match="broken"):
        async with writing_meanwhile(write()):
            async for item in turns(range(3), every=1):
                if item == 1:
                    raise RuntimeError("broken on purpose")
    assert finished == [True]


async def test_without_a_write_the_block_only_iterates() -> None:
    async with writing_meanwhile(None):
        assert [item async for item in turns("abc")] == ["a", "b", "c"]
