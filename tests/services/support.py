"""Helpers the service tests share."""

from __future__ import annotations

import json

from sqlalchemy import select

from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime


async def outbox_events(runtime: Runtime) -> list[tuple[str, Envelope]]:
    """(subject, parsed envelope) of every outbox row, in commit order; each must satisfy its contract."""
    outbox = runtime.tables.outbox
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    return [(row["subject"], runtime.catalog.parse(json.loads(row["payload"]))) for row in rows]
