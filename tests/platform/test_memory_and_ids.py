"""Two small mechanisms of a bulk job: the collector held off while it builds its rows, and the ids it makes."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Iterator

import pytest

from pm_platform.envelope import new_id
from pm_platform.memory import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_after(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_after_an_error(collector_on: None) -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the run failed")
    assert gc.isenabled()


def test_overlapping_jobs_keep_it_off_until_the_last_ends(collector_on: None) -> None:
    seen: list[bool] = []

    async def job(hold: float) -> None:
        with collector_paused():
            await asyncio.sleep(hold)
            seen.append(gc.isenabled())

    async def both() -> None:
        await asyncio.gather(job(0.01), job(0.05))

    asyncio.run(both())
    assert seen == [False, False]  # the first to end did not turn it back on under the second
    assert gc.isenabled()


def test_a_collector_someone_turned_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_ids_are_random_uuids_as_text() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # lower case, hyphenated, 36 characters
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    # every hex digit turns up in every random position (version and variant digits aside): no position is fixed
    for position in (0, 7, 9, 15, 17, 24, 35):
        assert len({text[position] for text in ids}) == 16
    assert {text[19] for text in ids} == set("89ab")
