"""Durable timers on real SQLite and PostgreSQL: they survive a restart and fire exactly once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pm_platform.envelope import utcnow
from pm_platform.timers import DueTimer, Timers, cancel, fire_due, pending, schedule
from pm_platform.uow import UnitOfWork
from tests.platform.harness import Probe


def _timers(fired: list[str]) -> Timers:
    timers = Timers()

    @timers.on("ack_due")
    async def ack_due(timer: DueTimer, uow: UnitOfWork) -> None:
        fired.append(f"{timer.key}:{timer.payload['site']}")

    @timers.on("always_fails")
    async def always_fails(timer: DueTimer, uow: UnitOfWork) -> None:
        raise RuntimeError("the handler's dependency is down")

    return timers


async def _probe(database_urls: dict[str, str], tmp_path: Path) -> Probe:
    probe = Probe("intake", database_urls["probe"], "nats://127.0.0.1:1", tmp_path)
    await probe.create_schema()
    return probe


async def test_a_timer_fires_once_after_a_restart_and_not_before_it_is_due(database_urls, tmp_path) -> None:
    probe = await _probe(database_urls, tmp_path)
    now = utcnow()
    async with probe.runtime.uow() as uow:
        await schedule(uow, "ack_due", key="req-1", due_at=now + timedelta(hours=2), payload={"site": "harbour"})
        await uow.commit()
    fired: list[str] = []
    assert await fire_due(probe.runtime, _timers(fired), now=now + timedelta(hours=1)) == 0

    # A new process (new engine, same database) still has the timer and fires it once.
    await probe.runtime.engine.dispose()
    probe.runtime = probe._new_runtime()
    later = now + timedelta(hours=2, seconds=1)
    assert await fire_due(probe.runtime, _timers(fired), now=later) == 1
    assert await fire_due(probe.runtime, _timers(fired), now=later) == 0
    assert fired == ["req-1:harbour"]
    await probe.runtime.engine.dispose()


async def test_moving_and_cancelling_a_timer(database_urls, tmp_path) -> None:
    probe = await _probe(database_urls, tmp_path)
    now = utcnow()
    async with probe.runtime.uow() as uow:
        await schedule(uow, "ack_due", key="req-2", due_at=now + timedelta(minutes=5), payload={"site": "a"})
        await schedule(uow, "ack_due", key="req-3", due_at=now + timedelta(minutes=5), payload={"site": "b"})
        await uow.commit()
    async with probe.runtime.uow() as uow:
        await schedule(uow, "ack_due", key="req-2", due_at=now + timedelta(hours=1), payload={"site": "a"})
        assert await cancel(uow, "ack_due", key="req-3") is True
        assert await cancel(uow, "ack_due", key="req-3") is False
        await uow.commit()
    fired: list[str] = []
    assert await fire_due(probe.runtime, _timers(fired), now=now + timedelta(minutes=10)) == 0
    assert await fire_due(probe.runtime, _timers(fired), now=now + timedelta(hours=1)) == 1
    assert fired == ["req-2:a"]
    async with probe.runtime.uow() as uow:
        assert await pending(uow, "req-2") == []
    await probe.runtime.engine.dispose()


async def test_a_failing_handler_leaves_the_timer_pending_for_the_next_poll(database_urls, tmp_path) -> None:
    probe = await _probe(database_urls, tmp_path)
    now = utcnow()
    async with probe.runtime.uow() as uow:
        await schedule(uow, "always_fails", key="req-4", due_at=now)
        await uow.commit()
    assert await fire_due(probe.runtime, _timers([]), now=now + timedelta(seconds=1)) == 0
    async with probe.runtime.uow() as uow:
        [still] = await pending(uow, "req-4")
    assert still.kind == "always_fails"
    await probe.runtime.engine.dispose()
