"""Contacts: the slim copies of intake's parties and units, request reporters, and the staff roster."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.contact.models import (
    Party,
    RequestContact,
    StaffMember,
    StaffRead,
    StaffRole,
    StaffWrite,
    Unit,
)
from notification.template.defaults import language_of
from pm_events.intake import RequestCreated
from pm_platform import directory
from pm_platform.auth import Principal
from pm_platform.envelope import parse_utc, utcnow
from pm_platform.errors import NotFound


async def remember_request(session: AsyncSession, created: RequestCreated) -> RequestContact:
    """Keep the reporter of a new request (from ``intake.request.created.v1``)."""
    reporter = created.reporter
    contact = RequestContact(
        request_id=created.request_id,
        site=created.site,
        unit_id=created.unit_id,
        party_id=reporter.party_id,
        name=reporter.name,
        phone=reporter.phone,
        language=language_of(reporter.language),
        kind=created.kind,
        priority=created.priority,
        requested_at=parse_utc(created.created_at),
        reopen_count=0,
    )
    session.add(contact)
    return contact


async def find_request(session: AsyncSession, request_id: str | None) -> RequestContact | None:
    if not request_id:
        return None
    return await session.get(RequestContact, request_id)


async def upsert_party(session: AsyncSession, data: directory.Payload) -> Party | None:
    """Apply ``intake.party.upserted.v1``; None when it is not newer than the copy held (out of order)."""
    return await directory.upsert_party(session, Party, data)


async def upsert_unit(session: AsyncSession, data: directory.Payload) -> Unit | None:
    """Apply ``intake.unit.upserted.v1`` (the building a broadcast may target); None when not newer."""
    return await directory.upsert_unit(session, Unit, data)


async def staff_for(
    session: AsyncSession, site: str, roles: Sequence[StaffRole], department: str | None = None
) -> list[StaffMember]:
    """The active staff of ``site`` in ``roles``; duty staff only of ``department``."""
    rows = (
        await session.scalars(
            select(StaffMember)
            .where(
                StaffMember.site == site, StaffMember.active.is_(True), StaffMember.role.in_([r.value for r in roles])
            )
            .order_by(StaffMember.id)
        )
    ).all()
    return [m for m in rows if m.role != StaffRole.duty or m.department == department]


async def supervisors_of(session: AsyncSession, site: str, department: str | None) -> list[StaffMember]:
    """Who handles a valid complaint: the department's own supervisors at ``site`` when the roster has any,
    else the site's customer-service supervisors (no department)."""
    rows = await staff_for(session, site, [StaffRole.supervisor])
    own = [m for m in rows if department is not None and m.department == department]
    return own or [m for m in rows if m.department is None]


async def list_staff(session: AsyncSession, principal: Principal, site: str) -> Sequence[StaffMember]:
    principal.check_site(site)
    return (
        await session.scalars(
            select(StaffMember).where(StaffMember.site == site).order_by(StaffMember.role, StaffMember.id)
        )
    ).all()


async def put_staff(session: AsyncSession, principal: Principal, staff_id: str, body: StaffWrite) -> StaffRead:
    principal.check_site(body.site)
    member = await session.get(StaffMember, staff_id)
    if member is None:
        member = StaffMember(id=staff_id)
        session.add(member)
    else:
        principal.check_site(member.site)
    for field, value in body.model_dump().items():
        setattr(member, field, value)
    member.updated_at = utcnow()
    await session.commit()
    return StaffRead.model_validate(member)


async def get_party(session: AsyncSession, principal: Principal, party_id: str) -> Party:
    party = await session.get(Party, party_id)
    if party is None:
        raise NotFound("party", party_id)
    principal.check_site(party.site)
    if "owner" in principal.roles and not (principal.roles - {"owner"}) and principal.party_id != party_id:
        raise NotFound("party", party_id)  # an owner sees only themselves; do not confirm others exist
    return party


async def unit_label(session: AsyncSession, unit_id: str) -> str:
    """How a resident names a unit: its number (A-0101) when known, else its id."""
    unit = await session.get(Unit, unit_id)
    return unit.number if unit is not None else unit_id


async def residents(session: AsyncSession, site: str, unit_ids: Sequence[str]) -> Sequence[Party]:
    query = select(Party).where(Party.site == site, Party.unit_id.in_(list(unit_ids)), Party.active.is_(True))
    return (await session.scalars(query.order_by(Party.unit_id, Party.party_id))).all()


async def owners(session: AsyncSession, site: str, unit_id: str, *, paying: bool = False) -> list[Party]:
    """The unit's active owners; with ``paying``, the unit's paying party instead when it has one."""
    parties = list(await residents(session, site, [unit_id]))
    unit = await session.get(Unit, unit_id) if paying else None
    payer = [p for p in parties if unit is not None and p.party_id == unit.paying_party_id]
    return payer or [p for p in parties if p.role == "owner"]
