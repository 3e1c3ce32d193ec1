"""A request's timeline: every service's events about the request (and intake's own notes), and the
unit's timeline across its requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.request.models import Request, TimelineEntry
from pm_platform.envelope import Envelope, new_id, utcnow


async def timeline(session: AsyncSession, request_id: str) -> Sequence[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.request_id == request_id).order_by(TimelineEntry.id)
    return (await session.scalars(query)).all()


async def unit_timeline(session: AsyncSession, unit_id: str, limit: int, offset: int) -> Sequence[TimelineEntry]:
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.unit_id == unit_id)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(query)).all()


def timeline_entry(request_id: str, unit_id: str | None, event: Envelope, summary: str) -> TimelineEntry:
    return TimelineEntry(
        request_id=request_id,
        unit_id=unit_id,
        event_id=event.id,
        event_type=event.type,
        source=event.source.removeprefix("pm/"),
        summary=summary,
        data=event.data,
        occurred_at=event.time,
    )


def note(request: Request, kind: str, summary: str, data: dict[str, Any]) -> TimelineEntry:
    """A timeline entry for something intake did that is not an integration event (a reply, a link)."""
    return TimelineEntry(
        request_id=request.id,
        unit_id=request.unit_id,
        event_id=new_id(),
        event_type=kind,
        source="intake",
        summary=summary,
        data=data,
        occurred_at=utcnow(),
    )


def procedure_entry(
    procedure: str,
    procedure_id: str,
    unit_id: str,
    event: Envelope | None,
    kind: str,
    summary: str,
    data: dict[str, Any],
) -> TimelineEntry:
    """A line in the unit's timeline for a step of a site procedure ("decoration", "move_in"...):
    from the integration event the step emitted, or, with ``event`` None, a step that emits none."""
    return TimelineEntry(
        request_id=None,
        procedure=procedure,
        procedure_id=procedure_id,
        unit_id=unit_id,
        event_id=event.id if event is not None else new_id(),
        event_type=event.type if event is not None else kind,
        source="intake",
        summary=summary,
        data=data,
        occurred_at=event.time if event is not None else utcnow(),
    )


async def procedure_timeline(session: AsyncSession, procedure: str, procedure_id: str) -> Sequence[TimelineEntry]:
    """One procedure's whole history, oldest first."""
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.procedure == procedure, TimelineEntry.procedure_id == procedure_id)
        .order_by(TimelineEntry.id)
    )
    return (await session.scalars(query)).all()
