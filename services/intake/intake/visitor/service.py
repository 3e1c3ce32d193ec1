"""Visitor use cases: register, sign in and out at the gate within the window, cancel, expire by timer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from intake.organization.models import Unit
from intake.organization.service import sees_contacts
from intake.register.models import Listing
from intake.register.service import entry_in_scope, line, list_entries, owner_party
from intake.visitor.models import (
    EXPIRE_TIMER,
    TRANSITIONS,
    Action,
    CancelCommand,
    Status,
    Visitor,
    VisitorCreate,
    VisitorRead,
)
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Forbidden
from pm_platform.statemachine import advance, allowed_actions
from pm_platform.timers import cancel, schedule
from pm_platform.uow import UnitOfWork

PROCEDURE = "visitor"
# The gate's list shows who is expected within this horizon, beside who is inside.
EXPECTED_HORIZON = timedelta(hours=12)


def _move(visitor: Visitor, action: Action) -> Status:
    return advance(TRANSITIONS, Status(visitor.status), action, what=f"visitor registration {visitor.id}")


async def register(uow: UnitOfWork, principal: Principal, command: VisitorCreate) -> Visitor:
    session = uow.session
    unit = await get_in_scope(session, Unit, command.unit_id, principal, what="unit")
    party = await owner_party(session, principal)
    if party is not None and party.unit_id != unit.id:
        raise Forbidden(f"an owner registers visitors to their own unit, not {unit.id}", field="unit_id")
    now = utcnow()
    valid_from = command.valid_from or now
    if command.valid_to <= now:
        raise Conflict("valid_to is already past", field="valid_to")
    visitor = Visitor(
        id=new_id(),
        site=unit.site,
        unit_id=unit.id,
        kind=command.kind,
        name=command.name,
        id_last4=command.id_last4.upper() if command.id_last4 else None,
        phone=command.phone,
        purpose=command.purpose,
        vehicle_plate=command.vehicle_plate,
        valid_from=valid_from,
        valid_to=command.valid_to,
        status=Status.expected,
        entries=0,
        registered_by=party.id if party is not None else principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(visitor)
    await schedule(uow, EXPIRE_TIMER, key=visitor.id, due_at=command.valid_to, payload={"site": unit.site})
    summary = (
        f"{command.kind.replace('_', ' ')} {command.name} registered ({command.purpose}), until {command.valid_to}"
    )
    line(uow, PROCEDURE, visitor.id, unit.id, "visitor.registered", summary)
    await uow.commit()
    return visitor


async def get(session: AsyncSession, principal: Principal, visitor_id: str) -> Visitor:
    return await entry_in_scope(session, principal, Visitor, visitor_id, what="visitor registration")


def read(principal: Principal, visitor: Visitor, now: datetime | None = None) -> VisitorRead:
    view = VisitorRead.model_validate(visitor)
    view.allowed_actions = allowed_actions(TRANSITIONS, Status(visitor.status))
    view.overstaying = visitor.status == Status.on_site and as_utc(visitor.valid_to) < (now or utcnow())
    if not sees_contacts(principal) and "owner" not in principal.roles:
        view.phone = None  # security and workers never see a phone
    return view


async def listing(
    session: AsyncSession, principal: Principal, filters: Listing, status: Status | None, on_site: bool | None
) -> tuple[Sequence[Visitor], int]:
    where = []
    if on_site is not None:
        now = utcnow()
        present = or_(
            Visitor.status == Status.on_site,
            and_(
                Visitor.status.in_([Status.expected, Status.left]),
                Visitor.valid_from <= now + EXPECTED_HORIZON,
                Visitor.valid_to > now,
            ),
        )
        where.append(present if on_site else ~present)
    order = (Visitor.valid_from, Visitor.id)
    return await list_entries(session, principal, Visitor, filters, *order, status=status, where=where)


async def sign_in(uow: UnitOfWork, principal: Principal, visitor_id: str) -> Visitor:
    visitor = await get_in_scope(uow.session, Visitor, visitor_id, principal, what="visitor registration")
    target = _move(visitor, Action.sign_in)
    now = utcnow()
    if now < as_utc(visitor.valid_from):
        raise Conflict(
            f"the visit is valid from {visitor.valid_from}", field="valid_from", current_status=visitor.status
        )
    if now >= as_utc(visitor.valid_to):
        raise Conflict(f"the visit was valid until {visitor.valid_to}", field="valid_to", current_status=visitor.status)
    visitor.status, visitor.signed_in_at, visitor.updated_at = target, now, now
    visitor.entries += 1
    line(
        uow,
        PROCEDURE,
        visitor.id,
        visitor.unit_id,
        "visitor.signed_in",
        f"{visitor.name} signed in by {principal.subject}",
    )
    await uow.commit()
    return visitor


async def sign_out(uow: UnitOfWork, principal: Principal, visitor_id: str) -> Visitor:
    visitor = await get_in_scope(uow.session, Visitor, visitor_id, principal, what="visitor registration")
    visitor.status = _move(visitor, Action.sign_out)
    visitor.signed_out_at = visitor.updated_at = utcnow()
    line(
        uow,
        PROCEDURE,
        visitor.id,
        visitor.unit_id,
        "visitor.signed_out",
        f"{visitor.name} left, by {principal.subject}",
    )
    await uow.commit()
    return visitor


async def cancel_visit(uow: UnitOfWork, principal: Principal, visitor_id: str, command: CancelCommand) -> Visitor:
    visitor = await get(uow.session, principal, visitor_id)
    visitor.status = _move(visitor, Action.cancel)
    visitor.cancel_reason, visitor.updated_at = command.reason, utcnow()
    await cancel(uow, EXPIRE_TIMER, key=visitor.id)
    summary = f"visit of {visitor.name} cancelled by {principal.subject}: {command.reason}"
    line(uow, PROCEDURE, visitor.id, visitor.unit_id, "visitor.cancelled", summary)
    await uow.commit()
    return visitor


async def expire(uow: UnitOfWork, visitor_id: str) -> None:
    """The window ended: an expected or departed visitor's registration expires; someone still inside stays
    on the gate's list, shown overstaying, until signed out."""
    visitor = await uow.session.get(Visitor, visitor_id)
    if visitor is None or Action.expire not in TRANSITIONS[Status(visitor.status)]:
        return
    visitor.status, visitor.updated_at = _move(visitor, Action.expire), utcnow()
    line(uow, PROCEDURE, visitor.id, visitor.unit_id, "visitor.expired", f"registration of {visitor.name} expired")
