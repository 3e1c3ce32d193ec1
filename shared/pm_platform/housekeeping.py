"""Housekeeping: the platform tables of a service stay small without losing a guarantee.

- Published outbox rows are kept ``outbox_retention_days`` (an operator can still see what went out).
- Inbox rows are kept ``inbox_retention_days``, which must exceed the streams' max age (90 days in
  deploy/nats/jetstream.yaml): a redelivery or replay of anything the stream still holds finds its row.
- Fired and cancelled timers are kept ``timer_retention_days``.
- A correlation's trace (``request_traces``) is kept ``inbox_retention_days``: a step on a request older
  than that is a trace of its own, without the link to the request's trace.
Pending outbox rows, pending timers and dead letters are never purged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import delete

from pm_platform.envelope import utcnow

if TYPE_CHECKING:
    from pm_platform.parts import ServiceParts

log = logging.getLogger(__name__)


async def purge(parts: ServiceParts, now: datetime | None = None) -> dict[str, int]:
    """Delete what has outlived its retention; returns the rows deleted per table."""
    settings = parts.settings
    tables = parts.tables
    now = now or utcnow()
    statements = {
        "outbox": delete(tables.outbox).where(
            tables.outbox.c.status == "published",
            tables.outbox.c.published_at < now - timedelta(days=settings.outbox_retention_days),
        ),
        "inbox": delete(tables.inbox).where(
            tables.inbox.c.received_at < now - timedelta(days=settings.inbox_retention_days)
        ),
        "timers": delete(tables.timers).where(
            tables.timers.c.status.in_(["fired", "cancelled"]),
            tables.timers.c.due_at < now - timedelta(days=settings.timer_retention_days),
        ),
        "request_traces": delete(tables.request_traces).where(
            tables.request_traces.c.created_at < now - timedelta(days=settings.inbox_retention_days)
        ),
    }
    deleted: dict[str, int] = {}
    async with parts.sessionmaker() as session:
        for name, statement in statements.items():
            result = await session.execute(statement)
            deleted[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        await session.commit()
    return deleted


def housekeeping_job(parts: ServiceParts) -> Callable[[], Coroutine[Any, Any, None]]:
    async def housekeeping() -> None:
        while True:
            try:
                with suppress_instrumentation():
                    deleted = await purge(parts)
                if any(deleted.values()):
                    log.info("housekeeping deleted %s", deleted)
            except Exception:
                log.exception("housekeeping failed")
            await asyncio.sleep(parts.settings.housekeeping_interval_seconds)

    return housekeeping
