"""Parcel use cases: receive (residents told), remind while uncollected (a durable timer), collect with a
signature, return to the carrier."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from intake.organization.models import Party, Unit
from intake.parcel.models import (
    REMINDER_TIMER,
    TRANSITIONS,
    Action,
    CollectCommand,
    Parcel,
    ParcelCreate,
    ParcelRead,
    ReturnCommand,
    Status,
)
from intake.register.models import MAX_PARCEL_REMINDERS, Listing
from intake.register.service import entry_in_scope, line, list_entries, settings_of, signature_data
from pm_events.intake import ParcelReceived, ParcelUncollected
from pm_platform.auth import Principal
from pm_platform.db import get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Invalid
from pm_platform.statemachine import advance, allowed_actions
from pm_platform.timers import cancel, schedule
from pm_platform.uow import UnitOfWork

PROCEDURE = "parcel"


def read(parcel: Parcel) -> ParcelRead:
    view = ParcelRead.model_validate(parcel)
    view.allowed_actions = allowed_actions(TRANSITIONS, Status(parcel.status))
    return view


async def receive(uow: UnitOfWork, principal: Principal, command: ParcelCreate) -> Parcel:
    session = uow.session
    unit = await get_in_scope(session, Unit, command.unit_id, principal, what="unit")
    addressee = command.addressee
    if command.party_id is not None:
        party = await session.get(Party, command.party_id)
        if party is None or party.unit_id != unit.id:
            raise Invalid(f"party {command.party_id} is not a party of unit {unit.id}", field="party_id")
        addressee = addressee or party.name
    now = utcnow()
    parcel = Parcel(
        id=new_id(),
        site=unit.site,
        unit_id=unit.id,
        party_id=command.party_id,
        addressee=addressee,
        kind=command.kind,
        carrier=command.carrier,
        tracking_number=command.tracking_number,
        shelf=command.shelf,
        status=Status.received,
        received_at=now,
        received_by=principal.subject,
        reminders=0,
        updated_at=now,
    )
    session.add(parcel)
    event = uow.emit(
        ParcelReceived(
            parcel_id=parcel.id,
            site=parcel.site,
            unit_id=parcel.unit_id,
            party_id=parcel.party_id,
            addressee=parcel.addressee,
            kind=command.kind.value,
            carrier=parcel.carrier,
            tracking_number=parcel.tracking_number,
            shelf=parcel.shelf,
            received_at=now.isoformat(),
        ),
        subject=parcel.id,
        site=parcel.site,
        correlation_id=parcel.id,
    )
    days = (await settings_of(session, unit.site)).parcel_reminder_days
    await schedule(uow, REMINDER_TIMER, key=parcel.id, due_at=now + timedelta(days=days))
    summary = f"{command.kind} from {command.carrier} received" + (f", shelf {command.shelf}" if command.shelf else "")
    line(uow, PROCEDURE, parcel.id, unit.id, "parcel.received", summary, event=event)
    await uow.commit()
    return parcel


async def get(session: AsyncSession, principal: Principal, parcel_id: str) -> Parcel:
    return await entry_in_scope(session, principal, Parcel, parcel_id, what="parcel")


async def listing(
    session: AsyncSession, principal: Principal, filters: Listing, status: Status | None
) -> tuple[Sequence[Parcel], int]:
    order = (Parcel.received_at.desc(), Parcel.id)
    return await list_entries(session, principal, Parcel, filters, *order, status=status)


async def collect(uow: UnitOfWork, principal: Principal, parcel_id: str, command: CollectCommand) -> Parcel:
    parcel = await get(uow.session, principal, parcel_id)
    parcel.status = advance(TRANSITIONS, Status(parcel.status), Action.collect, what=f"parcel {parcel.id}")
    parcel.signature_name, parcel.signature_key = signature_data(command.signature, parcel.site)
    parcel.collected_by, parcel.collector, parcel.nominated_by = command.collected_by, command.collector, None
    if command.collector == "nominee":
        parcel.nominated_by = command.nominated_by
    parcel.handed_over_by, parcel.closed_at = principal.subject, utcnow()
    parcel.updated_at = parcel.closed_at
    await cancel(uow, REMINDER_TIMER, key=parcel.id)
    who = command.collected_by + (f" (named by {command.nominated_by})" if parcel.nominated_by else "")
    line(uow, PROCEDURE, parcel.id, parcel.unit_id, "parcel.collected", f"{parcel.kind} collected by {who}")
    await uow.commit()
    return parcel


async def send_back(uow: UnitOfWork, principal: Principal, parcel_id: str, command: ReturnCommand) -> Parcel:
    parcel = await get(uow.session, principal, parcel_id)
    parcel.status = advance(TRANSITIONS, Status(parcel.status), Action.return_, what=f"parcel {parcel.id}")
    parcel.return_reason, parcel.handed_over_by, parcel.closed_at = command.reason, principal.subject, utcnow()
    parcel.updated_at = parcel.closed_at
    await cancel(uow, REMINDER_TIMER, key=parcel.id)
    summary = f"{parcel.kind} returned to {parcel.carrier}: {command.reason}"
    line(uow, PROCEDURE, parcel.id, parcel.unit_id, "parcel.returned", summary)
    await uow.commit()
    return parcel


async def remind(uow: UnitOfWork, parcel_id: str, at: datetime) -> None:
    """Still on the shelf after the site's reminder period (``at``, when the timer was due): the residents are
    reminded, again every period, at most MAX_PARCEL_REMINDERS times."""
    parcel = await uow.session.get(Parcel, parcel_id)
    if parcel is None or parcel.status != Status.received:
        return
    parcel.reminders += 1
    waited = (as_utc(at) - as_utc(parcel.received_at)).days
    event = uow.emit(
        ParcelUncollected(
            parcel_id=parcel.id,
            site=parcel.site,
            unit_id=parcel.unit_id,
            party_id=parcel.party_id,
            addressee=parcel.addressee,
            kind=parcel.kind,
            carrier=parcel.carrier,
            tracking_number=parcel.tracking_number,
            shelf=parcel.shelf,
            received_at=as_utc(parcel.received_at).isoformat(),
            days_waiting=waited,
            reminder=parcel.reminders,
        ),
        subject=parcel.id,
        site=parcel.site,
        correlation_id=parcel.id,
    )
    summary = f"{parcel.kind} uncollected for {waited} days: reminder {parcel.reminders} sent"
    line(uow, PROCEDURE, parcel.id, parcel.unit_id, "parcel.uncollected", summary, event=event)
    if parcel.reminders < MAX_PARCEL_REMINDERS:
        days = (await settings_of(uow.session, parcel.site)).parcel_reminder_days
        await schedule(uow, REMINDER_TIMER, key=parcel.id, due_at=as_utc(at) + timedelta(days=days))
