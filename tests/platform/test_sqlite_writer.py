"""SQLite's one writer, taken in turn inside the process (pm_platform.db.WriteLock): a writer waits on the lock, not
in SQLite's busy handler; readers pass; the turn comes back when the connection returns to the pool."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import text

from pm_platform.db import READ_ONLY, create_engine


async def test_writers_take_turns_in_arrival_order_and_a_reader_passes_a_writer(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE log (who TEXT, at REAL)"))
    order: list[str] = []
    first_holds = asyncio.Event()
    release_first = asyncio.Event()

    async def write(who: str, hold: asyncio.Event | None = None) -> None:
        async with engine.begin() as connection:
            order.append(who)
            await connection.execute(text("INSERT INTO log VALUES (:who, :at)"), {"who": who, "at": time.time()})
            if hold is not None:
                first_holds.set()
                await hold.wait()

    try:
        first = asyncio.create_task(write("first", release_first))
        await first_holds.wait()
        waiting = [asyncio.create_task(write(name)) for name in ("second", "third")]
        await asyncio.sleep(0.05)
        async with engine.connect() as reader:  # a reader is not held up by the writer
            reader = await reader.execution_options(**READ_ONLY)
            assert (await reader.execute(text("SELECT count(*) FROM log"))).scalar() == 0
        assert order == ["first"]

        release_first.set()
        await asyncio.gather(first, *waiting)
        assert order == ["first", "second", "third"]
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM log"))).scalar() == 3
    finally:
        await engine.dispose()


async def test_a_waiting_writer_starts_as_soon_as_the_turn_is_free(tmp_path: Path) -> None:
    """Without the turn, the waiting writer sleeps in SQLite's busy handler (steps of 50-100 ms by then)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    gaps = []

    async def write(
        started: list[float], holding: asyncio.Event | None = None, release: asyncio.Event | None = None
    ) -> None:
        async with engine.begin() as connection:
            started.append(time.perf_counter())
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            if holding is not None and release is not None:
                holding.set()
                await release.wait()

    try:
        for _ in range(3):
            holding, release, started = asyncio.Event(), asyncio.Event(), []
            first = asyncio.create_task(write(started, holding, release))
            await holding.wait()
            second = asyncio.create_task(write(started))
            await asyncio.sleep(0.3)
            released = time.perf_counter()
            release.set()
            await asyncio.gather(first, second)
            gaps.append(started[1] - released)
        assert sorted(gaps)[1] < 0.02, gaps
    finally:
        await engine.dispose()


async def test_a_failed_transaction_gives_the_turn_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    try:
        for _ in range(3):
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("SELECT * FROM no_such_table"))
            except Exception:
                pass
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        async with asyncio.timeout(5):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await engine.dispose()
