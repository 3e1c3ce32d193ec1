"""Durable timers: time limits and scheduled work that survive restarts.

A service schedules a timer inside a unit of work (so it commits with the state that needs it) and
registers a handler per timer kind. The timer loop finds due timers in the service's own database and
fires each in its own unit of work: the handler's effects, its events and the timer's ``fired`` mark
commit together, and the mark is a guarded update, so a timer fires exactly once even with several
replicas or a crash mid-way (an uncommitted firing is simply fired again after the restart).

    timers = Timers()

    @timers.on("request.ack_due")
    async def ack_due(timer: DueTimer, uow: UnitOfWork) -> None: ...

    async with runtime.uow() as uow:
        await schedule(uow, "request.ack_due", key=request.id, due_at=deadline, payload={"site": ...})
        await uow.commit()
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from pm_platform.db import READ_ONLY
from pm_platform.envelope import as_utc, utcnow
from pm_platform.telemetry import attached, context_from_trace_fields
from pm_platform.uow import UnitOfWork

if TYPE_CHECKING:
    from pm_platform.parts import ServiceParts

log = logging.getLogger(__name__)
tracer = trace.get_tracer("pm_platform.timers")


@dataclass(frozen=True)
class DueTimer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    # The W3C trace context (traceparent, tracestate, baggage) that scheduled it: it fires inside it.
    trace_context: tuple[str | None, str | None, str | None] = (None, None, None)


TimerHandler = Callable[[DueTimer, UnitOfWork], Awaitable[None]]


class Timers:
    """The timer handlers of one service, by kind."""

    def __init__(self) -> None:
        self.handlers: dict[str, TimerHandler] = {}

    def on(self, kind: str) -> Callable[[TimerHandler], TimerHandler]:
        def register(handler: TimerHandler) -> TimerHandler:
            if kind in self.handlers:
                raise ValueError(f"timer kind {kind!r} already has a handler")
            self.handlers[kind] = handler
            return handler

        return register

    def include(self, other: Timers) -> Timers:
        for kind, handler in other.handlers.items():
            self.on(kind)(handler)
        return self


async def schedule(
    uow: UnitOfWork, kind: str, *, key: str, due_at: datetime, payload: dict[str, Any] | None = None
) -> None:
    """Schedule (or move) the timer ``(kind, key)``; a fired or cancelled one is armed again. It fires in the
    trace context of this unit of work (the request's trace, when the unit of work joined a request)."""
    timers = uow.runtime.tables.timers
    trace_context = uow.trace_context()
    values = {
        "due_at": as_utc(due_at),
        "payload": json.dumps(payload or {}, default=str),
        "status": "pending",
        "fired_at": None,
        "traceparent": trace_context.get("traceparent"),
        "tracestate": trace_context.get("tracestate"),
        "baggage": trace_context.get("baggage"),
    }
    # One statement whether the timer is new or moved: (kind, key) is unique.
    dialect = postgresql if uow.runtime.engine.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(timers).values(kind=kind, key=key, **values)
    await uow.session.execute(upsert.on_conflict_do_update(index_elements=["kind", "key"], set_=values))


async def cancel(uow: UnitOfWork, kind: str, *, key: str) -> bool:
    """Cancel a pending timer; False when there was none pending."""
    timers = uow.runtime.tables.timers
    result = await uow.session.execute(
        update(timers)
        .where(timers.c.kind == kind, timers.c.key == key, timers.c.status == "pending")
        .values(status="cancelled")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def pending(uow: UnitOfWork, key: str) -> list[DueTimer]:
    """The pending timers of one key (for example a request's time limits), earliest first."""
    timers = uow.runtime.tables.timers
    rows = await uow.session.execute(
        select(timers).where(timers.c.key == key, timers.c.status == "pending").order_by(timers.c.due_at)
    )
    return [_due(row) for row in rows.mappings()]


def _due(row: Any) -> DueTimer:
    return DueTimer(
        id=row["id"],
        kind=row["kind"],
        key=row["key"],
        due_at=as_utc(row["due_at"]),
        payload=json.loads(row["payload"] or "{}"),
        trace_context=(row["traceparent"], row["tracestate"], row["baggage"]),
    )


async def fire_due(parts: ServiceParts, timers: Timers, now: datetime | None = None, limit: int = 100) -> int:
    """Fire the timers due by ``now``; returns how many fired. Called by the loop, and by tests."""
    table = parts.tables.timers
    now = now or utcnow()
    with suppress_instrumentation():  # the idle poll would otherwise be a span every second
        async with parts.engine.connect() as connection:
            connection = await connection.execution_options(**READ_ONLY)
            rows = await connection.execute(
                select(table)
                .where(table.c.status == "pending", table.c.due_at <= now, table.c.kind.in_(list(timers.handlers)))
                .order_by(table.c.due_at)
                .limit(limit)
            )
            due = [_due(row) for row in rows.mappings()]
    fired = 0
    for timer in due:
        try:
            if await _fire(parts, timers, timer, now):
                fired += 1
        except Exception:
            # Stays pending: the next poll tries again (the handler's effects were rolled back).
            log.exception("timer %s/%s failed", timer.kind, timer.key)
    return fired


async def _fire(parts: ServiceParts, timers: Timers, timer: DueTimer, now: datetime) -> bool:
    table = parts.tables.timers
    with (
        attached(context_from_trace_fields(*timer.trace_context)),
        tracer.start_as_current_span(f"timer {timer.kind}", attributes={"pm.timer.key": timer.key}),
    ):
        async with UnitOfWork(parts) as uow:
            claimed = await uow.session.execute(
                update(table)
                .where(table.c.id == timer.id, table.c.status == "pending", table.c.due_at == timer.due_at)
                .values(status="fired", fired_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False  # moved, cancelled or fired by another replica meanwhile
            await timers.handlers[timer.kind](timer, uow)
            await uow.commit()
    return True


def timer_job(parts: ServiceParts, timers: Timers) -> Callable[[], Coroutine[Any, Any, None]]:
    """The background job that fires due timers every ``timer_poll_seconds``."""

    async def timer_loop() -> None:
        while True:
            try:
                await fire_due(parts, timers)
            except Exception:
                log.exception("timer poll failed")
            await asyncio.sleep(parts.settings.timer_poll_seconds)

    return timer_loop
