"""Duty log and shift handover."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.duty.models import DutyLogEntry, DutyLogWrite, Handover, HandoverWrite
from intake.organization.models import Site
from intake.request.models import OPEN, Request, Status
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid
from pm_platform.uow import UnitOfWork

DEFAULT_SHIFT = timedelta(hours=12)
# What the next shift does with a request, by status, unless the outgoing agent says otherwise.
NEXT_STEP = {
    Status.new: "acknowledge and route to a department",
    Status.acknowledged: "route to a department or answer the owner",
    Status.in_progress: "chase the department; reply to the owner with progress",
    Status.reopened: "rework under supervisor review; reply to the owner",
}


async def log(uow: UnitOfWork, principal: Principal, command: DutyLogWrite) -> DutyLogEntry:
    principal.check_site(command.site)
    if await uow.session.get(Site, command.site) is None:
        raise Invalid(f"site {command.site} does not exist", field="site")
    if command.request_id:
        request = await uow.session.get(Request, command.request_id)
        if request is None or request.site != command.site:
            raise Invalid(f"request {command.request_id} is not a request of site {command.site}", field="request_id")
    entry = DutyLogEntry(
        site=command.site,
        author=principal.subject,
        kind=command.kind,
        note=command.note,
        request_id=command.request_id,
        unit_id=command.unit_id,
        at=utcnow(),
    )
    uow.session.add(entry)
    await uow.commit()
    return entry


async def log_entries(session: AsyncSession, site: str, start: datetime, end: datetime) -> Sequence[DutyLogEntry]:
    query = (
        select(DutyLogEntry)
        .where(DutyLogEntry.site == site, DutyLogEntry.at >= start, DutyLogEntry.at < end)
        .order_by(DutyLogEntry.at, DutyLogEntry.id)
    )
    return (await session.scalars(query)).all()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _deadline(request: Request) -> datetime | None:
    """The next thing that falls due on the request: acknowledgement, progress reply or the appointment."""
    due: list[datetime] = []
    if request.status == Status.new and request.ack_due_at:
        due.append(as_utc(request.ack_due_at))
    if request.replied_at is None and request.reply_due_at:
        due.append(as_utc(request.reply_due_at))
    if request.appointment_start and as_utc(request.appointment_start) > utcnow():
        due.append(as_utc(request.appointment_start))
    return min(due) if due else None


async def open_items(session: AsyncSession, site: str) -> list[dict[str, Any]]:
    requests = (
        await session.scalars(
            select(Request)
            .where(Request.site == site, Request.status.in_([s.value for s in OPEN]))
            .order_by(Request.created_at)
        )
    ).all()
    items = []
    for request in requests:
        deadline = _deadline(request)
        items.append(
            {
                "request_id": request.id,
                "kind": request.kind,
                "category": request.category,
                "unit_id": request.unit_id,
                "location": request.location,
                "status": request.status,
                "owner": request.department or request.created_by,
                "next_step": NEXT_STEP[Status(request.status)],
                "deadline": deadline.isoformat() if deadline else None,
                "escalated": request.escalated,
            }
        )
    return items


async def hand_over(uow: UnitOfWork, principal: Principal, command: HandoverWrite) -> Handover:
    principal.check_site(command.site)
    session = uow.session
    if await session.get(Site, command.site) is None:
        raise Invalid(f"site {command.site} does not exist", field="site")
    now = utcnow()
    previous = await session.scalar(
        select(Handover).where(Handover.site == command.site).order_by(Handover.handed_over_at.desc()).limit(1)
    )
    start = command.shift_start or (as_utc(previous.handed_over_at) if previous else None) or now - DEFAULT_SHIFT
    items = {item["request_id"]: item for item in await open_items(session, command.site)}
    for index, given in enumerate(command.items):
        item = items.get(given.request_id)
        if item is None:
            raise Invalid(
                f"request {given.request_id} is not an open request of site {command.site}",
                field=f"items.{index}.request_id",
            )
        for key in ("next_step", "owner"):
            if getattr(given, key):
                item[key] = getattr(given, key)
        if given.deadline:
            item["deadline"] = given.deadline.isoformat()
    contacts: list[dict[str, Any]] = [
        {
            "at": as_utc(e.at).isoformat(),
            "kind": e.kind,
            "by": e.author,
            "note": e.note,
            "request_id": e.request_id,
            "unit_id": e.unit_id,
        }
        for e in await log_entries(session, command.site, start, now + timedelta(seconds=1))
    ]
    recorded = (
        await session.scalars(
            select(Request)
            .where(Request.site == command.site, Request.created_at >= start)
            .order_by(Request.created_at)
        )
    ).all()
    contacts += [
        {
            "at": as_utc(r.created_at).isoformat(),
            "kind": r.channel,
            "by": r.created_by,
            "note": f"{r.kind}/{r.category}: {r.description[:200]}",
            "request_id": r.id,
            "unit_id": r.unit_id,
        }
        for r in recorded
    ]
    contacts.sort(key=lambda c: c["at"])
    handover = Handover(
        id=new_id(),
        site=command.site,
        from_agent=principal.subject,
        to_agent=command.to_agent,
        shift_start=start,
        handed_over_at=now,
        notes=command.notes,
        contacts=contacts,
        items=list(items.values()),
    )
    session.add(handover)
    await uow.commit()
    return handover


async def get_handover(session: AsyncSession, principal: Principal, handover_id: str) -> Handover:
    return await get_in_scope(session, Handover, handover_id, principal, what="handover")


async def accept(uow: UnitOfWork, principal: Principal, handover_id: str) -> Handover:
    """The incoming agent takes the shift over: only the person it was handed to, and only once."""
    handover = await get_in_scope(uow.session, Handover, handover_id, principal, what="handover", for_update=True)
    if handover.to_agent != principal.subject:
        raise Forbidden(f"handover {handover.id} was handed to {handover.to_agent}, not to {principal.subject}")
    if handover.accepted_at is not None:
        raise Conflict(f"handover {handover.id} was already accepted by {handover.accepted_by}", field="accepted_at")
    handover.accepted_by, handover.accepted_at = principal.subject, utcnow()
    await uow.commit()
    return handover


async def handovers(session: AsyncSession, principal: Principal, site: str, limit: int) -> Sequence[Handover]:
    query = (
        select(Handover)
        .where(principal.site_filter(Handover.site, site))
        .order_by(Handover.handed_over_at.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()
