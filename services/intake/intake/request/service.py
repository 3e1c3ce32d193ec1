"""Request use cases: record a request, read it, and apply what other services did about it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.organization.models import Site, Unit
from intake.request.models import Request, RequestCreate, Status, TimelineEntry, can_transition
from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.problems import NotFound, Problem
from pm_platform.uow import UnitOfWork


async def create_request(uow: UnitOfWork, principal: Principal, command: RequestCreate) -> Request:
    principal.check_site(command.site)
    session = uow.session
    if await session.get(Site, command.site) is None:
        raise Problem(422, f"site {command.site} does not exist", field="site")
    if command.unit_id is not None:
        unit = await session.get(Unit, command.unit_id)
        if unit is None or unit.site != command.site:
            raise Problem(422, f"unit {command.unit_id} does not exist at site {command.site}", field="unit_id")
    now = utcnow()
    request = Request(
        id=new_id(), site=command.site, kind=command.kind, channel=command.channel, category=command.category,
        priority=command.priority, status=Status.new, description=command.description, unit_id=command.unit_id,
        location=command.location, in_unit=command.in_unit, reporter_party_id=command.reporter.party_id,
        reporter_name=command.reporter.name, reporter_phone=command.reporter.phone,
        appointment_start=command.appointment.start if command.appointment else None,
        appointment_end=command.appointment.end if command.appointment else None,
        created_by=principal.subject, created_at=now, updated_at=now,
    )
    session.add(request)
    # Lets an operator find this request's trace (`pm trace <request id>`).
    trace.get_current_span().set_attribute("pm.correlation_id", request.id)
    event = uow.emit(
        "intake.request.created.v1",
        subject=request.id,
        site=request.site,
        correlation_id=request.id,
        data={
            "request_id": request.id, "site": request.site, "kind": request.kind, "category": request.category,
            "priority": request.priority, "description": request.description, "unit_id": request.unit_id,
            "location": request.location, "in_unit": request.in_unit, "channel": request.channel,
            "reporter": command.reporter.model_dump(),
            "appointment": command.appointment.model_dump(mode="json") if command.appointment else None,
            "created_at": now.isoformat(),
        },
    )
    session.add(_timeline(request.id, request.unit_id, event, f"{request.kind} recorded by {principal.subject}"))
    await uow.commit()
    return request


async def get_request(session: AsyncSession, principal: Principal, request_id: str) -> Request:
    request = await session.get(Request, request_id)
    if request is None:
        raise NotFound("request", request_id)
    principal.check_site(request.site)
    return request


async def timeline(session: AsyncSession, request_id: str) -> Sequence[TimelineEntry]:
    query = select(TimelineEntry).where(TimelineEntry.request_id == request_id).order_by(TimelineEntry.id)
    return (await session.scalars(query)).all()


async def list_requests(session: AsyncSession, principal: Principal, *, site: str | None, status: str | None,
                        limit: int, offset: int) -> tuple[Sequence[Request], int]:
    query = select(Request)
    if site:
        principal.check_site(site)
        query = query.where(Request.site == site)
    elif not principal.all_sites:
        query = query.where(Request.site.in_(principal.sites))
    if status:
        query = query.where(Request.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(Request.created_at.desc()).limit(limit).offset(offset))).all()
    return rows, total


async def record_progress(uow: UnitOfWork, event: Envelope, summary: str, target: Status | None = None) -> None:
    """Add another service's event to the request's timeline and move the request on where it applies."""
    data: dict[str, Any] = event.data
    request_id = data.get("request_id") or event.correlationid
    request = await uow.session.get(Request, request_id)
    if request is not None and target is not None and can_transition(Status(request.status), target):
        request.status = target
        request.updated_at = utcnow()
    unit_id = request.unit_id if request is not None else data.get("unit_id")
    uow.session.add(_timeline(request_id, unit_id, event, summary))


def _timeline(request_id: str, unit_id: str | None, event: Envelope, summary: str) -> TimelineEntry:
    return TimelineEntry(request_id=request_id, unit_id=unit_id, event_id=event.id, event_type=event.type,
                         source=event.source.removeprefix("pm/"), summary=summary, data=event.data,
                         occurred_at=event.time)
