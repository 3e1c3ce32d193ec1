"""Account use cases: record charges (paid in-unit repairs; fees come from billing periods), work out a unit's
balance, overdue amount and aging from its charges and payments, publish a unit's status when it changes, and
read an account.

Payments settle the oldest due charges first (FIFO by due date): that decides what is overdue and which
period a payment counts towards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import (
    BUCKETS,
    REPAIR,
    AccountRead,
    AccountStatus,
    AccountSummary,
    Charge,
    ChargeRead,
    PaymentSummary,
    RefundSummary,
    charge_kind,
)
from billing.directory.models import PHONE_ROLES, Party, Unit, payer_read, unit_read
from billing.directory.service import payers, site_timezone, site_today
from billing.occupancy.models import AccountClosure
from billing.payment.models import Payment
from billing.period.models import DEFAULT_REPAIR_DUE_DAYS, SiteBilling
from billing.refund.models import Refund, RefundStatus
from pm_events.billing import AccountStatusChanged, ChargeRecorded
from pm_events.dispatch import WorkOrderCompleted
from pm_platform.auth import Principal
from pm_platform.db import bulk_insert, fetch_page, turns, writing_meanwhile
from pm_platform.envelope import Envelope, as_utc, new_id, utcnow
from pm_platform.errors import Forbidden, NotFound
from pm_platform.sitetime import DEFAULT_TIMEZONE, day_start, local_date
from pm_platform.timers import DueTimer, Timers, schedule
from pm_platform.uow import UnitOfWork

OVERDUE_TIMER = "account.falls_overdue"
# A billing run's charges all fall due on one day: one timer for the site and that day, not one per unit.
SITE_OVERDUE_TIMER = "account.site_falls_overdue"
timers = Timers()
StatusReason = Literal["charge", "payment", "period_issued", "overdue", "refund"]


# --- the ledger: charges against payments --------------------------------------------------------------


@dataclass
class Ledger:
    """One unit's position on ``as_of`` (charges recorded and payments received by the end of that day)."""

    as_of: date
    charges: list[Charge]
    payments: list[Payment]  # not voided
    refunds: list[Refund] = field(default_factory=list)  # approved
    outstanding: dict[str, int] = field(default_factory=dict)  # charge id -> unpaid part
    charged_cents: int = 0
    paid_cents: int = 0
    refunded_cents: int = 0
    overdue_cents: int = 0
    oldest_due: date | None = None
    aging: dict[str, int] = field(default_factory=lambda: {name: 0 for name, _, _ in BUCKETS})

    @property
    def balance_cents(self) -> int:
        return self.charged_cents - self.paid_cents + self.refunded_cents

    @property
    def days_overdue(self) -> int:
        return (self.as_of - self.oldest_due).days if self.oldest_due else 0


def settlement_order(charge: Charge) -> tuple[date, datetime, str]:
    """The order payments settle charges in: oldest due first."""
    return charge.due_date, as_utc(charge.recorded_at), charge.id


def earmarked_parts(
    charges: Sequence[Charge], payments: Sequence[Payment], refunds: Sequence[Refund]
) -> dict[str, int]:
    """Per charge, what the payments taken for it (``charge_id``), less what was refunded of them, settle of it
    before anything else: at most the charge; the rest of such a payment goes to the oldest due charges."""
    refunded: dict[str, int] = {}
    for refund in refunds:
        refunded[refund.payment_id] = refunded.get(refund.payment_id, 0) + refund.amount_cents
    paid_for: dict[str, int] = {}
    for payment in payments:
        if payment.charge_id:
            net = max(payment.amount_cents - refunded.get(payment.id, 0), 0)
            paid_for[payment.charge_id] = paid_for.get(payment.charge_id, 0) + net
    return {c.id: min(paid_for[c.id], c.amount_cents) for c in charges if paid_for.get(c.id)}


def settle(
    as_of: date,
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    timezone: str,
    refunds: Sequence[Refund] = (),
) -> Ledger:
    """Apply the payments, less the approved refunds, to the charges (less any waived late fee), oldest due first, and
    age what is left unpaid after its due date. ``as_of`` is a day of the site's calendar: what happened before the
    site's next midnight counts."""
    cutoff = day_start(as_of + timedelta(days=1), timezone)
    live_charges = sorted(
        (
            c
            for c in charges
            if as_utc(c.recorded_at) < cutoff and (c.waived_at is None or as_utc(c.waived_at) >= cutoff)
        ),
        key=settlement_order,
    )
    live_payments = [p for p in payments if p.voided_at is None and as_utc(p.received_at) < cutoff]
    live_refunds = [
        r
        for r in refunds
        if r.status == RefundStatus.approved and r.decided_at is not None and as_utc(r.decided_at) < cutoff
    ]
    ledger = Ledger(as_of, live_charges, live_payments, live_refunds)
    ledger.charged_cents = sum(c.amount_cents for c in live_charges)
    ledger.paid_cents = sum(p.amount_cents for p in live_payments)
    ledger.refunded_cents = sum(r.amount_cents for r in live_refunds)
    # A payment taken for one charge (cash for a repair on site) settles that charge first; money paid back no
    # longer settles anything: the charges it paid are open again.
    earmarked = earmarked_parts(live_charges, live_payments, live_refunds)
    available = max(ledger.paid_cents - ledger.refunded_cents - sum(earmarked.values()), 0)
    # A credit (a negative charge: a move-out's unoccupied days of a period billed in full) settles charges as a
    # payment does, oldest due first, and is itself never outstanding.
    available += sum(-c.amount_cents for c in live_charges if c.amount_cents < 0)
    for charge in live_charges:
        if charge.amount_cents < 0:
            ledger.outstanding[charge.id] = 0
            continue
        paid_for = earmarked.get(charge.id, 0)
        applied = min(available, charge.amount_cents - paid_for)
        available -= applied
        unpaid = charge.amount_cents - paid_for - applied
        ledger.outstanding[charge.id] = unpaid
        if unpaid and charge.due_date < as_of:
            ledger.overdue_cents += unpaid
            if ledger.oldest_due is None or charge.due_date < ledger.oldest_due:
                ledger.oldest_due = charge.due_date
            days = (as_of - charge.due_date).days
            for name, low, high in BUCKETS:
                if days >= low and (high is None or days <= high):
                    ledger.aging[name] += unpaid
    return ledger


async def site_ledgers(
    session: AsyncSession, site: str, as_of: date | None = None, unit_ids: Sequence[str] | None = None
) -> dict[str, Ledger]:
    """The ledger of every unit of a site with charges or payments (or of ``unit_ids``), as of a day of the site's
    calendar (today there by default)."""
    timezone = await site_timezone(session, site)
    as_of = as_of or local_date(utcnow(), timezone)
    charge_query = select(Charge).where(Charge.site == site)
    payment_query = select(Payment).where(Payment.site == site)
    if unit_ids is not None:
        charge_query = charge_query.where(Charge.unit_id.in_(list(unit_ids)))
        payment_query = payment_query.where(Payment.unit_id.in_(list(unit_ids)))
    charges: dict[str, list[Charge]] = {}
    for charge in (await session.scalars(charge_query)).all():
        charges.setdefault(charge.unit_id, []).append(charge)
    payments: dict[str, list[Payment]] = {}
    for payment in (await session.scalars(payment_query)).all():
        payments.setdefault(payment.unit_id, []).append(payment)
    refund_query = select(Refund).where(Refund.site == site, Refund.status == RefundStatus.approved.value)
    if unit_ids is not None:
        refund_query = refund_query.where(Refund.unit_id.in_(list(unit_ids)))
    refunds: dict[str, list[Refund]] = {}
    for refund in (await session.scalars(refund_query)).all():
        refunds.setdefault(refund.unit_id, []).append(refund)
    units = sorted(set(charges) | set(payments) | set(unit_ids or []))
    return {u: settle(as_of, charges.get(u, []), payments.get(u, []), timezone, refunds.get(u, [])) for u in units}


async def unit_ledger(session: AsyncSession, site: str, unit_id: str, as_of: date | None = None) -> Ledger:
    return (await site_ledgers(session, site, as_of, [unit_id]))[unit_id]


# --- status: published when it changes ---------------------------------------------------------------


def status_changed(
    unit_id: str, site: str, ledger: Ledger, currency: str, reason: StatusReason, now: datetime
) -> AccountStatusChanged:
    """billing.account.status_changed.v1 for a unit's ledger as it stands now."""
    return AccountStatusChanged(
        unit_id=unit_id,
        site=site,
        balance_cents=ledger.balance_cents,
        overdue_cents=ledger.overdue_cents,
        in_arrears=ledger.overdue_cents > 0,
        oldest_due=ledger.oldest_due.isoformat() if ledger.oldest_due else None,
        currency=currency,
        reason=reason,
        updated_at=now.isoformat(),
    )


async def refresh_status(
    uow: UnitOfWork,
    site: str,
    unit_id: str,
    *,
    reason: StatusReason,
    today: date | None = None,
    caused_by: Envelope | None = None,
    correlation_id: str | None = None,
) -> bool:
    """Recompute a unit's status and publish billing.account.status_changed.v1 if it differs from the last one
    published (a unit never published counts as zero and not in arrears). True when it published."""
    await uow.session.flush()
    today = today or await site_today(uow.session, site)
    # Lock the unit's status row first (PostgreSQL): a concurrent change of the same unit waits for this one to
    # commit and then computes from it, so the last status published includes both.
    status = await uow.session.get(AccountStatus, unit_id, with_for_update=True)
    ledger = await unit_ledger(uow.session, site, unit_id, today)
    in_arrears = ledger.overdue_cents > 0
    current = (ledger.balance_cents, ledger.overdue_cents, in_arrears, ledger.oldest_due)
    previous = (
        (status.balance_cents, status.overdue_cents, status.in_arrears, status.oldest_due)
        if status is not None
        else (0, 0, False, None)
    )
    if current == previous:
        return False
    now = utcnow()
    if status is None:
        status = AccountStatus(unit_id=unit_id, site=site)
        uow.session.add(status)
    status.balance_cents, status.overdue_cents, status.in_arrears, status.oldest_due = current
    status.updated_at = now
    currency = ledger.charges[0].currency if ledger.charges else await site_currency(uow.session, site)
    uow.emit(
        status_changed(unit_id, site, ledger, currency, reason, now),
        subject=unit_id,
        site=site,
        caused_by=caused_by,
        correlation_id=correlation_id,
    )
    return True


async def refresh_statuses(
    uow: UnitOfWork,
    site: str,
    unit_ids: Sequence[str],
    *,
    reason: StatusReason,
    today: date,
    correlation_id: str | None = None,
    ledgers: Mapping[str, Ledger] | None = None,
    meanwhile: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """``refresh_status`` for many units of a site at once (a billing run, a due day): the site's status rows are
    locked first, every ledger is read in one pass (or given: a run knows them) and the changes are written in bulk.
    ``meanwhile`` is a write the caller has pending (a run's outbox rows so far): it goes on on the session while the
    statuses and their events are built (``writing_meanwhile``), and ends before the session is used again, whatever
    happens. The number published."""
    await uow.session.flush()
    table = cast(Table, AccountStatus.__table__)
    held = {
        row.unit_id: (row.balance_cents, row.overdue_cents, row.in_arrears, row.oldest_due)
        for row in (await uow.session.execute(select(table).where(table.c.site == site).with_for_update())).all()
    }
    wanted = set(unit_ids)
    if ledgers is None:
        ledgers = await site_ledgers(uow.session, site, today)
    ledgers = {u: ledger for u, ledger in ledgers.items() if u in wanted}
    currency = await site_currency(uow.session, site)
    now = utcnow()
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    async with writing_meanwhile(meanwhile() if meanwhile else None):
        async for unit_id in turns(sorted(wanted)):
            ledger = ledgers.get(unit_id) or settle(today, [], [], DEFAULT_TIMEZONE)
            current = (ledger.balance_cents, ledger.overdue_cents, ledger.overdue_cents > 0, ledger.oldest_due)
            if current == held.get(unit_id, (0, 0, False, None)):
                continue
            row = dict(zip(("balance_cents", "overdue_cents", "in_arrears", "oldest_due"), current, strict=True))
            (updates if unit_id in held else inserts).append(
                {"unit_id": unit_id, "site": site, "updated_at": now, **row}
            )
            uow.emit(
                status_changed(
                    unit_id, site, ledger, ledger.charges[0].currency if ledger.charges else currency, reason, now
                ),
                subject=unit_id,
                site=site,
                correlation_id=correlation_id,
            )
    if inserts:
        await bulk_insert(uow.session, table, inserts)
    if updates:
        await uow.session.execute(update(AccountStatus), updates)  # ORM bulk update by primary key
    return len(inserts) + len(updates)


async def watch_site_due_date(uow: UnitOfWork, site: str, due_date: date) -> None:
    """A billing run's charges turn overdue together: one durable timer re-checks every unit with a charge due that
    day, at the site's midnight after it."""
    timezone = await site_timezone(uow.session, site)
    if due_date < local_date(utcnow(), timezone):
        return
    await schedule(
        uow,
        SITE_OVERDUE_TIMER,
        key=f"{site}@{due_date.isoformat()}",
        due_at=day_start(due_date + timedelta(days=1), timezone),
        payload={"site": site, "due_date": due_date.isoformat()},
    )


@timers.on(SITE_OVERDUE_TIMER)
async def on_site_falls_overdue(timer: DueTimer, uow: UnitOfWork) -> None:
    site = timer.payload["site"]
    timezone = await site_timezone(uow.session, site)
    today = max(local_date(utcnow(), timezone), local_date(timer.due_at, timezone))
    due = date.fromisoformat(timer.payload["due_date"])
    units = (
        await uow.session.scalars(select(Charge.unit_id).where(Charge.site == site, Charge.due_date == due).distinct())
    ).all()
    await refresh_statuses(uow, site, units, reason="overdue", today=today)


async def site_currency(session: AsyncSession, site: str) -> str:
    settings = await session.get(SiteBilling, site)
    return settings.currency if settings else "CNY"


async def watch_due_date(uow: UnitOfWork, site: str, unit_id: str, due_date: date) -> None:
    """A charge turns overdue the day after its due date with nobody acting: a durable timer re-checks the
    unit's status then (one timer per unit and due date): at the site's midnight after the due date."""
    timezone = await site_timezone(uow.session, site)
    if due_date < local_date(utcnow(), timezone):
        return  # already overdue: the status published now says so
    due_at = day_start(due_date + timedelta(days=1), timezone)
    await schedule(
        uow,
        OVERDUE_TIMER,
        key=f"{unit_id}@{due_date.isoformat()}",
        due_at=due_at,
        payload={"site": site, "unit_id": unit_id},
    )


@timers.on(OVERDUE_TIMER)
async def on_falls_overdue(timer: DueTimer, uow: UnitOfWork) -> None:
    site = timer.payload["site"]
    timezone = await site_timezone(uow.session, site)
    today = max(local_date(utcnow(), timezone), local_date(timer.due_at, timezone))
    await refresh_status(uow, site, timer.payload["unit_id"], reason="overdue", today=today)


# --- charges -----------------------------------------------------------------------------------------


def charge_recorded(charge: Charge) -> ChargeRecorded:
    """The billing.charge.recorded.v1 event of a charge."""
    return ChargeRecorded(
        charge_id=charge.id,
        site=charge.site,
        unit_id=charge.unit_id,
        item=charge.item,
        amount_cents=charge.amount_cents,
        currency=charge.currency,
        request_id=charge.request_id,
        work_order_id=charge.work_order_id,
        recorded_at=as_utc(charge.recorded_at).isoformat(),
        kind=charge_kind(charge.kind),
        period=charge.period,
        due_date=charge.due_date.isoformat(),
    )


async def record_repair_charge(uow: UnitOfWork, data: WorkOrderCompleted, completed: Envelope) -> Charge | None:
    """A completed in-unit work order with a charge puts that charge on the unit's account; nothing else does."""
    charge_data_in = data.charge
    if not charge_data_in or not data.in_unit or not data.unit_id:
        return None
    due_days = await repair_due_days(uow.session, data.site)
    now = utcnow()
    charge = Charge(
        id=new_id(),
        site=data.site,
        unit_id=data.unit_id,
        kind=REPAIR,
        item=charge_data_in.item,
        amount_cents=int(charge_data_in.amount_cents),
        currency=charge_data_in.currency,
        period=None,
        due_date=await site_today(uow.session, data.site) + timedelta(days=due_days),
        request_id=data.request_id,
        work_order_id=data.work_order_id,
        worker=data.worker[:128] if data.worker else None,
        department=data.department,
        source_event_id=completed.id,
        recorded_at=now,
    )
    await post_charge(uow, charge, completed)
    return charge


async def post_charge(
    uow: UnitOfWork, charge: Charge, caused_by: Envelope | None, *, correlation_id: str | None = None
) -> None:
    """Put a charge on the unit's account: billing.charge.recorded.v1, the overdue watch, the unit's status."""
    uow.session.add(charge)
    correlation_id = None if caused_by else correlation_id
    uow.emit(
        charge_recorded(charge), subject=charge.id, site=charge.site, caused_by=caused_by, correlation_id=correlation_id
    )
    await watch_due_date(uow, charge.site, charge.unit_id, charge.due_date)
    await refresh_status(
        uow, charge.site, charge.unit_id, reason="charge", caused_by=caused_by, correlation_id=correlation_id
    )


async def repair_due_days(session: AsyncSession, site: str) -> int:
    """Days after it is recorded that a one-off charge (a repair, a decoration fee) falls due."""
    settings = await session.get(SiteBilling, site)
    return settings.repair_due_days if settings else DEFAULT_REPAIR_DUE_DAYS


# --- reads -------------------------------------------------------------------------------------------


def charge_read(charge: Charge, outstanding: int | None) -> ChargeRead:
    return ChargeRead(
        id=charge.id,
        site=charge.site,
        unit_id=charge.unit_id,
        kind=charge.kind,
        item=charge.item,
        amount_cents=charge.amount_cents,
        currency=charge.currency,
        period=charge.period,
        fee_item=charge.fee_item,
        bill_id=charge.bill_id,
        late_fee_of=charge.late_fee_of,
        waived_at=charge.waived_at,
        due_date=charge.due_date,
        request_id=charge.request_id,
        work_order_id=charge.work_order_id,
        recorded_at=charge.recorded_at,
        outstanding_cents=outstanding,
    )


async def account(
    session: AsyncSession, principal: Principal, site: str, unit_id: str, as_of: date | None = None
) -> AccountRead:
    """A unit's account at a site (the caller's scope on ``site`` is checked by the route); empty is balance 0.
    The payer's full phone number only for the roles that chase payment."""
    as_of = as_of or await site_today(session, site)
    await check_owner(session, principal, unit_id)
    unit = await session.get(Unit, unit_id)
    if unit is not None and unit.site != site:
        # Another site's unit: its payer and ledger are not this caller's to see.
        raise NotFound("unit", unit_id)
    ledger = await unit_ledger(session, site, unit_id, as_of)
    # A unit not (yet) in the slim copy has no payer to show: a party of another site would answer here.
    payer = (await payers(session, {unit_id: unit}, [unit_id])).get(unit_id) if unit else None
    balances: dict[str, int] = {}
    for charge in ledger.charges:
        balances[charge.currency] = balances.get(charge.currency, 0) + charge.amount_cents
    for payment in ledger.payments:
        balances[payment.currency] = balances.get(payment.currency, 0) - payment.amount_cents
    for refund in ledger.refunds:
        balances[refund.currency] = balances.get(refund.currency, 0) + refund.amount_cents
    all_payments = (
        await session.scalars(
            select(Payment)
            .where(Payment.site == site, Payment.unit_id == unit_id)
            .order_by(Payment.received_at, Payment.receipt_seq)
        )
    ).all()
    closure = await session.get(AccountClosure, unit_id)
    closed_at = closure.closed_at if closure and closure.site == site and closure.reopened_at is None else None
    return AccountRead(
        unit_id=unit_id,
        site=site,
        as_of=as_of,
        closed=closed_at is not None,
        closed_at=closed_at,
        balance_cents=ledger.balance_cents,
        balances=balances,
        charged_cents=ledger.charged_cents,
        paid_cents=ledger.paid_cents,
        refunded_cents=ledger.refunded_cents,
        overdue_cents=ledger.overdue_cents,
        in_arrears=ledger.overdue_cents > 0,
        oldest_due=ledger.oldest_due,
        days_overdue=ledger.days_overdue,
        aging=ledger.aging,
        unit=unit_read(unit) if unit else None,
        payer=payer_read(payer, full_phone=principal.has_any(PHONE_ROLES | {"owner"})) if payer else None,
        charges=[
            charge_read(c, ledger.outstanding.get(c.id))
            for c in sorted(ledger.charges, key=lambda c: (as_utc(c.recorded_at), c.id))
        ],
        payments=[
            PaymentSummary(
                id=p.id,
                receipt_no=p.receipt_no,
                amount_cents=p.amount_cents,
                currency=p.currency,
                method=p.method,
                reference=p.reference,
                received_at=p.received_at,
                voided=p.voided_at is not None,
            )
            for p in all_payments
        ],
        refunds=[
            RefundSummary(
                id=r.id,
                receipt_no=r.receipt_no,
                amount_cents=r.amount_cents,
                currency=r.currency,
                method=r.method,
                reason=r.reason,
                approved_at=r.decided_at,
            )
            for r in sorted(ledger.refunds, key=lambda r: (as_utc(r.decided_at or r.requested_at), r.id))
        ],
    )


async def check_owner(session: AsyncSession, principal: Principal, unit_id: str) -> None:
    """An owner (or tenant) with no staff role sees only the account of a unit they are an active party of."""
    if principal.roles - {"owner"}:
        return
    party = await session.get(Party, principal.party_id) if principal.party_id else None
    if party is None or party.unit_id != unit_id or not party.active:
        raise Forbidden(f"not a party of unit {unit_id}", field="unit_id")


async def list_accounts(
    session: AsyncSession,
    principal: Principal,
    site: str,
    *,
    as_of: date | None,
    in_arrears: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[AccountSummary], int]:
    """Every account of a site (its units, and any unit with charges or payments), by unit."""
    as_of = as_of or await site_today(session, site)
    units = {u.id: u for u in (await session.scalars(select(Unit).where(Unit.site == site))).all()}
    ledgers = await site_ledgers(session, site, as_of, sorted(units))
    rows = sorted(ledgers.items())
    if in_arrears is not None:
        rows = [(u, ledger) for u, ledger in rows if (ledger.overdue_cents > 0) == in_arrears]
    window = rows[offset : offset + limit]
    paying = await payers(session, units, [u for u, _ in window])
    full_phone = principal.has_any(PHONE_ROLES)
    items = [
        AccountSummary(
            unit_id=unit_id,
            building=units[unit_id].building if unit_id in units else None,
            number=units[unit_id].number if unit_id in units else None,
            payer=payer_read(paying[unit_id], full_phone=full_phone) if unit_id in paying else None,
            balance_cents=ledger.balance_cents,
            overdue_cents=ledger.overdue_cents,
            in_arrears=ledger.overdue_cents > 0,
            oldest_due=ledger.oldest_due,
        )
        for unit_id, ledger in window
    ]
    return items, len(rows)


async def list_charges(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    unit_id: str | None,
    period: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Charge], int]:
    query = select(Charge)
    query = query.where(principal.site_filter(Charge.site, site))
    if unit_id:
        query = query.where(Charge.unit_id == unit_id)
    if period:
        query = query.where(Charge.period == period)
    if kind:
        query = query.where(Charge.kind == kind)
    return await fetch_page(session, query, Charge.recorded_at.desc(), Charge.id, limit=limit, offset=offset)
