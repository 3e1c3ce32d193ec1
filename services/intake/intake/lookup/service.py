"""Caller lookup by phone number or unit, and the payment status and latest bill kept from billing's events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.lookup.models import CallerMatch, LastBill, LastBillRead, PaymentRead, PaymentStatus
from intake.organization.models import Party, PartyRead, Unit, UnitRead
from intake.organization.service import mask_phone, parties_by_phone, parties_of_unit, sees_contacts
from intake.request.models import OPEN, Request, RequestRead
from pm_events.billing import AccountStatusChanged, BillIssued
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, utcnow
from pm_platform.errors import Invalid, NotFound
from pm_platform.uow import UnitOfWork

RECENT_DAYS = 90
RECENT_LIMIT = 10


async def record_payment_status(uow: UnitOfWork, data: AccountStatusChanged) -> None:
    """Upsert the unit's payment status; an event older than the one held is ignored (out of order)."""
    updated_at = datetime.fromisoformat(data.updated_at)
    row = await uow.session.get(PaymentStatus, data.unit_id)
    if row is not None and as_utc(row.updated_at) > updated_at:
        return
    if row is None:
        row = PaymentStatus(unit_id=data.unit_id)
        uow.session.add(row)
    row.site, row.balance_cents, row.overdue_cents = data.site, data.balance_cents, data.overdue_cents
    row.in_arrears = data.in_arrears
    row.oldest_due = date.fromisoformat(data.oldest_due) if data.oldest_due else None
    row.currency = data.currency or "CNY"
    row.updated_at = updated_at


async def record_last_bill(uow: UnitOfWork, data: BillIssued) -> None:
    """Keep the unit's latest bill; an earlier period's bill arriving late is ignored."""
    row = await uow.session.get(LastBill, data.unit_id)
    if row is not None and row.period > data.period:
        return
    if row is None:
        row = LastBill(unit_id=data.unit_id)
        uow.session.add(row)
    row.site, row.bill_id, row.period = data.site, data.bill_id, data.period
    row.amount_due_cents, row.currency = data.amount_due_cents, data.currency
    row.due_date = date.fromisoformat(data.due_date)
    row.issued_at = datetime.fromisoformat(data.issued_at)


async def lookup(
    session: AsyncSession, principal: Principal, *, site: str | None, phone: str | None, unit_id: str | None
) -> list[CallerMatch]:
    if not phone and not unit_id:
        raise Invalid("give a phone number or a unit", field="phone")
    if site:
        principal.check_site(site)
    sites = {site} if site else (None if principal.all_sites else set(principal.sites))
    pairs: list[tuple[Party | None, Unit | None]] = []
    if unit_id:
        unit = await session.get(Unit, unit_id)
        if unit is None or (sites is not None and unit.site not in sites):
            raise NotFound(f"unit {unit_id} not found", field="unit_id")
        pairs.append((None, unit))
    else:
        assert phone is not None
        normalized = phone.replace(" ", "").replace("-", "")
        for party in await parties_by_phone(session, sites, normalized):
            pairs.append((party, await session.get(Unit, party.unit_id) if party.unit_id else None))
        if not pairs:  # a caller not in the archive may still have called before
            pairs.append((None, None))
    return [
        await _match(session, principal, party, unit, phone if party is None and unit is None else None, sites)
        for party, unit in pairs
    ]


def payment_read(payment: PaymentStatus, last_bill: LastBill | None) -> PaymentRead:
    read = PaymentRead.model_validate(payment)
    read.last_bill = LastBillRead.model_validate(last_bill) if last_bill is not None else None
    return read


async def _match(
    session: AsyncSession,
    principal: Principal,
    party: Party | None,
    unit: Unit | None,
    phone: str | None,
    sites: set[str] | None,
) -> CallerMatch:
    conditions = []
    if unit is not None:
        conditions.append(Request.unit_id == unit.id)
    if party is not None:
        conditions.append(Request.reporter_party_id == party.id)
        if party.phone:
            conditions.append(Request.reporter_phone == party.phone)
    if phone:
        conditions.append(Request.reporter_phone == phone)
    open_requests: Sequence[Request] = []
    recent: Sequence[Request] = []
    if conditions:
        base = select(Request).where(or_(*conditions))
        if sites is not None:
            base = base.where(Request.site.in_(sites))
        open_requests = (
            await session.scalars(
                base.where(Request.status.in_([s.value for s in OPEN])).order_by(Request.created_at.desc())
            )
        ).all()
        since = utcnow() - timedelta(days=RECENT_DAYS)
        recent = (
            await session.scalars(
                base.where(Request.created_at >= since).order_by(Request.created_at.desc()).limit(RECENT_LIMIT)
            )
        ).all()
    payment = await session.get(PaymentStatus, unit.id) if unit is not None else None
    last_bill = await session.get(LastBill, unit.id) if unit is not None else None
    contacts = sees_contacts(principal)
    parties = [PartyRead.model_validate(p) for p in await parties_of_unit(session, unit.id)] if unit else []
    party_read = PartyRead.model_validate(party) if party else None
    if not contacts:
        parties = [p.model_copy(update={"phone": mask_phone(p.phone), "email": None}) for p in parties]
        if party_read:
            party_read = party_read.model_copy(update={"phone": mask_phone(party_read.phone), "email": None})
    return CallerMatch(
        party=party_read,
        unit=UnitRead.model_validate(unit) if unit else None,
        parties=parties,
        payment=payment_read(payment, last_bill) if payment is not None and contacts else None,
        open_requests=[RequestRead.model_validate(r) for r in open_requests],
        recent_requests=[RequestRead.model_validate(r) for r in recent],
    )
