"""Group requests into incidents and broadcast to the units an incident affects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.incident.models import Broadcast, BroadcastCommand, Incident
from intake.organization.models import Building, Site, Unit
from intake.request.models import Request, Status
from intake.request.timeline import timeline_entry
from pm_events.intake import IncidentBroadcast
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Invalid
from pm_platform.uow import UnitOfWork


async def group(uow: UnitOfWork, site: Site, request: Request) -> Incident | None:
    """Join an open incident on the request's building and category, or open one when the site's threshold of
    such requests arrived within its window."""
    if request.building_id is None:
        return None
    session = uow.session
    since = request.created_at - timedelta(minutes=site.incident_window_minutes)
    incident = await session.scalar(
        select(Incident)
        .where(
            Incident.site == site.code,
            Incident.building_id == request.building_id,
            Incident.category == request.category,
            Incident.status == "open",
            Incident.last_request_at >= since,
        )
        .order_by(Incident.opened_at.desc())
        .limit(1)
    )
    if incident is not None:
        request.incident_id = incident.id
        incident.request_count += 1
        incident.last_request_at = request.created_at
        return incident
    members = (
        await session.scalars(
            select(Request).where(
                Request.site == site.code,
                Request.building_id == request.building_id,
                Request.category == request.category,
                Request.created_at >= since,
                Request.incident_id.is_(None),
                Request.status != Status.cancelled,
            )
        )
    ).all()
    if len(members) < site.incident_threshold:
        return None
    incident = Incident(
        id=new_id(),
        site=site.code,
        building_id=request.building_id,
        category=request.category,
        status="open",
        opened_at=request.created_at,
        last_request_at=request.created_at,
        request_count=len(members),
    )
    session.add(incident)
    for member in members:
        member.incident_id = incident.id
    return incident


async def get_incident(session: AsyncSession, principal: Principal, incident_id: str) -> Incident:
    return await get_in_scope(session, Incident, incident_id, principal, what="incident")


async def list_incidents(
    session: AsyncSession, principal: Principal, site: str | None, status: str | None
) -> Sequence[Incident]:
    query = select(Incident)
    query = query.where(principal.site_filter(Incident.site, site))
    if status:
        query = query.where(Incident.status == status)
    return (await session.scalars(query.order_by(Incident.opened_at.desc()).limit(200))).all()


async def broadcasts(session: AsyncSession, incident_id: str) -> Sequence[Broadcast]:
    query = select(Broadcast).where(Broadcast.incident_id == incident_id).order_by(Broadcast.requested_at)
    return (await session.scalars(query)).all()


async def broadcast(uow: UnitOfWork, principal: Principal, incident_id: str, command: BroadcastCommand) -> Broadcast:
    session = uow.session
    incident = await get_incident(session, principal, incident_id)
    if command.unit_ids is not None:
        unit_ids = list(dict.fromkeys(command.unit_ids))
        known = set(
            (await session.scalars(select(Unit.id).where(Unit.site == incident.site, Unit.id.in_(unit_ids)))).all()
        )
        unknown = [u for u in unit_ids if u not in known]
        if unknown:
            raise Invalid(f"units {', '.join(unknown[:5])} are not units of site {incident.site}", field="unit_ids")
    else:
        unit_ids = list(
            (
                await session.scalars(select(Unit.id).where(Unit.building_id == incident.building_id).order_by(Unit.id))
            ).all()
        )
        if not unit_ids:
            raise Conflict(f"building {incident.building_id} has no units to tell", field="unit_ids")
    building = await session.get(Building, incident.building_id)
    now = utcnow()
    record = Broadcast(
        id=new_id(),
        incident_id=incident.id,
        site=incident.site,
        message=command.message,
        urgency=command.urgency,
        unit_count=len(unit_ids),
        requested_by=principal.subject,
        requested_at=now,
    )
    session.add(record)
    event = uow.emit(
        IncidentBroadcast(
            incident_id=incident.id,
            site=incident.site,
            building=building.code if building else None,
            unit_ids=unit_ids,
            category=incident.category,
            message=command.message,
            urgency=command.urgency,
            requested_by=principal.subject,
            broadcast_id=record.id,
            requested_at=now.isoformat(),
        ),
        subject=incident.id,
        site=incident.site,
        correlation_id=incident.id,
    )
    members = (await session.scalars(select(Request).where(Request.incident_id == incident.id))).all()
    for member in members:
        session.add(
            timeline_entry(
                member.id, member.unit_id, event, f"incident broadcast to {len(unit_ids)} units by {principal.subject}"
            )
        )
    await uow.commit()
    return record


async def close(uow: UnitOfWork, principal: Principal, incident_id: str) -> Incident:
    incident = await get_incident(uow.session, principal, incident_id)
    if incident.status == "closed":
        raise Conflict(f"incident {incident_id} is already closed", field="status")
    incident.status, incident.closed_at, incident.closed_by = "closed", utcnow(), principal.subject
    await uow.commit()
    return incident
