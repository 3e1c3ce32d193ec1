"""UnitOfWork.write_outbox: a bulk job writes the outbox rows of the events it has built so far while it builds the
next ones; the commit writes the rest. Each event's row is written once, all go with a rollback, a commit that failed
writes them all again when it is retried, and a second commit writes only what came after the first (billing's
runtime, SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from billing.database import Base, platform_tables
from billing.main import subscriptions
from pm_events.billing import AccountStatusChanged
from pm_platform import migrations
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings
from pm_platform.uow import UnitOfWork
from tests.services.support import outbox_events


@pytest.fixture
async def runtime(database_urls: dict[str, str], tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(service="billing", var_dir=tmp_path, database_url=database_urls["billing"])
    await asyncio.to_thread(migrations.upgrade, "billing", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    yield runtime
    await runtime.engine.dispose()


def emit(uow: UnitOfWork, n: int) -> str:
    event = AccountStatusChanged(
        unit_id=f"harbour-A-{n:04d}",
        site="harbour",
        balance_cents=100 * n,
        overdue_cents=0,
        in_arrears=False,
        oldest_due=None,
        currency="CNY",
        reason="period_issued",
        updated_at=utcnow().isoformat(),
    )
    return uow.emit(event, subject=event.unit_id, site="harbour").id


async def commit_failing_once(uow: UnitOfWork) -> None:
    """A commit the database refuses (the transaction rolls back), then the same unit of work committed again."""
    session: Any = uow.session
    real_commit = session.commit

    async def refused() -> None:
        raise ConnectionError("the database went away at the commit")

    session.commit = refused
    with pytest.raises(ConnectionError):
        await uow.commit()
    await uow.session.rollback()
    session.commit = real_commit
    await uow.commit()


async def written(runtime: Runtime) -> list[str]:
    return [envelope.id for _, envelope in await outbox_events(runtime)]


async def test_a_batch_written_early_and_the_rest_at_commit_are_each_written_once(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        ids = [emit(uow, n) for n in range(3)]
        await uow.write_outbox()
        await uow.write_outbox()  # nothing new since: nothing written
        ids.append(emit(uow, 3))
        await uow.commit()
    assert await written(runtime) == ids


async def test_a_batch_written_early_goes_with_a_rollback(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        emit(uow, 1)
        await uow.write_outbox()
        emit(uow, 2)  # and the unit of work ends without a commit
    assert await written(runtime) == []


async def test_a_failed_commit_retried_writes_every_event_again(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        ids = [emit(uow, n) for n in range(2)]
        await uow.write_outbox()
        ids.append(emit(uow, 2))
        await commit_failing_once(uow)  # the batch written early is gone with the failed transaction
    assert await written(runtime) == ids


async def test_a_second_commit_writes_only_what_came_after_the_first_even_when_it_is_retried(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        first = emit(uow, 1)
        await uow.commit()
        assert uow.events == []  # committed: nothing of it stays held
        second = emit(uow, 2)
        await commit_failing_once(uow)  # the first event's row is not written twice (its id is the outbox's key)
    assert await written(runtime) == [first, second]
