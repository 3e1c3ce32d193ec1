"""The billing run and its bills: every active fee item billed in the period, charged to every unit with a paying
party, one bill per unit, in set-based statements (a site of 100,000 units is one run); and the bills' reads.
A metered item bills each unit's clean consumption of the period plus its shares of the shared meters (公摊)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import MANAGEMENT_FEE, PERIODIC_FEE, Charge
from billing.account.service import (
    Ledger,
    check_owner,
    refresh_statuses,
    site_ledgers,
    unit_ledger,
    watch_site_due_date,
)
from billing.bill.models import Bill, BillLine, BillRead
from billing.bill.registers import register_lines
from billing.directory.models import PHONE_ROLES, Unit, UnitFacts, payer_read, unit_read
from billing.directory.service import payers, site_payer_ids, site_units
from billing.dunning.service import watch_daily
from billing.fee.models import MANAGEMENT_FEE_CODE, FeeItem, FeeRate
from billing.fee.service import billed_in, decimal_text, items_with_rates, line_for, metered_cents, rate_in_force
from billing.latefee.models import LATE_FEE
from billing.latefee.service import assess, assessed_before, site_policy
from billing.meter.service import KindUsage, usage_for_billing
from billing.occupancy.service import for_run as occupancy_for_run
from billing.occupancy.service import not_final_charge
from pm_events.billing import BillIssued, BillIssuedLine
from pm_platform.auth import Principal
from pm_platform.db import bulk_insert, fetch_page, turns, writing_meanwhile
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Invalid
from pm_platform.uow import UnitOfWork

# The tables themselves: a run inserts its rows in bulk (pm_platform.db.bulk_insert), without the ORM's per-row
# bookkeeping.
CHARGES = cast(Table, Charge.__table__)
BILLS = cast(Table, Bill.__table__)


@dataclass
class RunResult:
    bills: int = 0
    total_cents: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unit id, reason


@dataclass(frozen=True)
class RunContext:
    site: str
    period: str
    currency: str
    due_date: date
    now: datetime

    def charge_row(
        self,
        unit_id: str,
        bill_id: str,
        kind: str,
        fee_item: str | None,
        text: str,
        amount_cents: int,
        late_fee_of: str | None = None,
    ) -> dict[str, Any]:
        """One charge of the run as the row inserted (every row has the same keys: one executemany)."""
        return {
            "id": new_id(),
            "site": self.site,
            "unit_id": unit_id,
            "kind": kind,
            "fee_item": fee_item,
            "bill_id": bill_id,
            "item": text[:120],
            "amount_cents": amount_cents,
            "currency": self.currency,
            "period": self.period,
            "due_date": self.due_date,
            "request_id": None,
            "work_order_id": None,
            "source_event_id": None,
            "late_fee_of": late_fee_of,
            "recorded_at": self.now,
        }


async def items_billed_in(session: AsyncSession, site: str, period: str) -> list[tuple[FeeItem, FeeRate]]:
    """The site's active fee items billed in the period, each with the rates in force for it."""
    billed: list[tuple[FeeItem, FeeRate]] = []
    for item, rates in await items_with_rates(session, site, active_only=True):
        rate = rate_in_force(rates, period)
        if rate is not None and billed_in(period, item.cycle_months):
            billed.append((item, rate))
    return billed


def metered_text(item: FeeItem, period: str, own: Decimal, share: Decimal, settled_cents: int | None = None) -> str:
    quantity = f"{own + share:.2f}" + (f" ({own:.2f} + {share:.2f} shared)" if share else "")
    less = f", less {Decimal(settled_cents).scaleb(-2):.2f} charged at the move-out" if settled_cents else ""
    return f"{item.name} {period}: {quantity}{less}"[:120]


def metered_row(
    context: RunContext,
    unit_id: str,
    bill_id: str,
    item: FeeItem,
    rate: FeeRate,
    usage: KindUsage,
    settled_cents: int | None = None,
) -> dict[str, Any] | str | None:
    """A unit's metered charge: the row, why it has none this period (a reading flagged or missing), or None when
    it measured nothing or a move-out's settlement charged it all.

    A move-out charges the leaving party its own meter up to the final reading; the period's shares of the shared
    meters (公摊), known only once the period is read, and what the meter measured after the final reading fall to
    the unit's paying party of the run: the period's whole quantity at the tariff, less what the settlement charged
    (the tiers count the unit's period once, whoever pays which part)."""
    if unit_id in usage.held:
        return f"{item.code}: {usage.held[unit_id]}"
    own, share = usage.quantity(unit_id)
    amount_cents = (metered_cents(own + share, rate) if own + share > 0 else 0) - (settled_cents or 0)
    if amount_cents <= 0:
        return None
    text = metered_text(item, context.period, own, share, settled_cents)
    row = context.charge_row(unit_id, bill_id, PERIODIC_FEE, item.code, text, amount_cents)
    if settled_cents:
        # The settlement's charge is the period's (one per unit, item and period); the rest carries no period, as a
        # move-out's credit does, and the bill ties it to the period.
        row["period"] = None
    return row


def line_text(item: FeeItem, period: str, unit: UnitFacts, rate: Decimal, months: int) -> str:
    if item.formula == "area":
        text = f"{item.name} {period}: {unit.area_m2} m² x {decimal_text(rate)}"
    else:
        text = f"{item.name} {period}"
    return (text + (f" x {months} months" if months > 1 else ""))[:120]


async def run(
    uow: UnitOfWork,
    site: str,
    period: str,
    items: list[tuple[FeeItem, FeeRate]],
    *,
    billing_period_id: str,
    currency: str,
    due_date: date,
    today: date,
) -> RunResult:
    """Bill every unit of the site with a paying party and no bill (or fee charge) for the period yet: one charge
    per fee item, one bill, billing.bill.issued.v1 each, the units' statuses, and one overdue timer for the due
    date. ``items`` are the fee items billed in the period with their rates (``items_billed_in``). The caller
    commits."""
    session = uow.session
    result = RunResult()
    units = await site_units(session, site)
    billed_before = set(
        (await session.scalars(select(Bill.unit_id).where(Bill.site == site, Bill.period == period))).all()
    )
    # Move-ins and move-outs inside the period, and the items a move-out's settlement charged for it, read once.
    occupancy = await occupancy_for_run(session, site, period)
    billed_before |= set(
        (
            await session.scalars(
                select(Charge.unit_id).where(
                    Charge.site == site,
                    Charge.period == period,
                    Charge.fee_item.is_not(None),
                    not_final_charge(site),
                )
            )
        ).all()
    )
    to_bill = [u for u in units if u.id not in billed_before]
    payer_ids = await site_payer_ids(session, site, to_bill)
    # Metered items: the whole site's meters and readings of the period at once (the shares take every unit).
    kinds = sorted({item.meter_kind for item, _ in items if item.formula == "metered" and item.meter_kind})
    usage = await usage_for_billing(session, site, period, kinds, units) if kinds and to_bill else {}
    # The ledgers are read before the run's charges go in: the new charges fall due later than anything overdue,
    # so they add to the balance and change nothing else of it (payments settle the oldest due first). (The whole
    # site's at once: an IN list of 100,000 units is more parameters than PostgreSQL takes.)
    history = await site_ledgers(session, site, today)
    policy = await site_policy(session, site)
    late_fees_before = await assessed_before(session, site) if policy.mode != "none" else {}
    registers = await register_lines(session, site, period, {item.code for item, _ in items})  # parking, rentals
    now = utcnow()
    context = RunContext(site, period, currency, due_date, now)
    charges: list[dict[str, Any]] = []
    bills: dict[str, dict[str, Any]] = {}
    ledgers: dict[str, Ledger] = {}
    for unit in to_bill:
        payer_id = payer_ids.get(unit.id)
        # A unit whose paying party intake named is billed even before that party's copy arrives.
        if payer_id is None and not unit.paying_party_id:
            result.skipped.append((unit.id, "no paying party"))
            continue
        bill_id = new_id()
        ledger = history.get(unit.id) or Ledger(today, [], [])

        lines: list[dict[str, Any]] = []
        for item, rate in items:
            settled_cents = occupancy.settled(unit.id, item.code)
            if item.formula == "metered":
                kind_usage = usage[item.meter_kind or ""]
                metered = metered_row(context, unit.id, bill_id, item, rate, kind_usage, settled_cents)
                if isinstance(metered, str):
                    result.skipped.append((unit.id, metered))
                elif metered is not None:
                    lines.append(metered)
                continue
            if settled_cents is not None:
                continue  # charged to the move-out day by the leaving party's settlement
            # Only the occupied days of the span when a move-in or move-out falls inside it (at the occupied rate).
            share = occupancy.share(unit.id, item.cycle_months)
            occupied = unit.occupied or share is not None
            line = line_for(item.formula, item.cycle_months, rate, unit.area_m2, unit.use, occupied)
            if line is None or line.amount_cents <= 0:
                continue
            kind = MANAGEMENT_FEE if item.code == MANAGEMENT_FEE_CODE else PERIODIC_FEE
            text = line_text(item, period, unit, line.rate, line.months)
            amount_cents = share.of(line) if share else line.amount_cents
            if amount_cents > 0:
                text = share.label(text) if share else text
                lines.append(context.charge_row(unit.id, bill_id, kind, item.code, text, amount_cents))
        lines.extend(registers.rows(context.charge_row, unit.id, bill_id, result.skipped))
        for late in assess(policy, ledger, late_fees_before, today):
            text = f"Late fee: {late.charge.item[:80]}, {late.days_late} days overdue"
            lines.append(context.charge_row(unit.id, bill_id, LATE_FEE, None, text, late.amount_cents, late.charge.id))
        if not lines:
            result.skipped.append((unit.id, "nothing to bill"))
            continue
        charges.extend(lines)
        ledgers[unit.id] = ledger
        bills[unit.id] = {
            "id": bill_id,
            "site": site,
            "unit_id": unit.id,
            "period": period,
            "billing_period_id": billing_period_id,
            "payer_party_id": payer_id or unit.paying_party_id,
            "currency": currency,
            "charges_cents": sum(line["amount_cents"] for line in lines),
            "due_date": due_date,
            "issued_at": now,
            "lines": lines,
        }
    if not bills:
        return result
    for unit_id, bill in bills.items():
        ledger = ledgers[unit_id]
        bill["previous_balance_cents"] = ledger.balance_cents
        ledger.charged_cents += bill["charges_cents"]
        bill["amount_due_cents"] = max(ledger.balance_cents, 0)

    async def write() -> None:
        await bulk_insert(session, CHARGES, charges)
        await bulk_insert(session, BILLS, [{k: v for k, v in b.items() if k != "lines"} for b in bills.values()])

    # The database takes the charges and bills while the bills' events are built (no statement in between: the
    # session is the writer's until it ends). The writes finish even when an event cannot be built.
    async with writing_meanwhile(write()):
        async for bill in turns(bills.values()):
            uow.emit(bill_issued(bill), subject=bill["id"], site=site, correlation_id=billing_period_id)
    await refresh_statuses(  # the bills' events go to the outbox while the statuses and their events are built
        uow,
        site,
        list(bills),
        reason="period_issued",
        today=today,
        correlation_id=billing_period_id,
        ledgers=ledgers,
        meanwhile=uow.write_outbox,
    )
    await watch_site_due_date(uow, site, due_date)
    await watch_daily(uow, site)  # from the first bills on, the ladder runs every morning by itself
    result.bills = len(bills)
    result.total_cents = sum(b["charges_cents"] for b in bills.values())
    return result


def bill_issued(bill: dict[str, Any]) -> BillIssued:
    return BillIssued(
        bill_id=bill["id"],
        site=bill["site"],
        unit_id=bill["unit_id"],
        period=bill["period"],
        currency=bill["currency"],
        previous_balance_cents=bill["previous_balance_cents"],
        charges_cents=bill["charges_cents"],
        amount_due_cents=bill["amount_due_cents"],
        due_date=bill["due_date"].isoformat(),
        payer_party_id=bill["payer_party_id"],
        lines=[
            BillIssuedLine(
                charge_id=line["id"],
                fee_item=line["fee_item"] or line["kind"],
                item=line["item"],
                amount_cents=line["amount_cents"],
            )
            for line in bill["lines"]
        ],
        issued_at=bill["issued_at"].isoformat(),
    )


# --- reads -------------------------------------------------------------------------------------------


async def list_bills(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str,
    period: str | None,
    unit_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Bill], int]:
    if unit_id:
        await check_owner(session, principal, unit_id)
    elif not principal.roles - {"owner"}:
        raise Invalid("an owner lists the bills of their own unit: name it", field="unit_id")
    query = select(Bill).where(principal.site_filter(Bill.site, site))
    if period:
        query = query.where(Bill.period == period)
    if unit_id:
        query = query.where(Bill.unit_id == unit_id)
    return await fetch_page(session, query, Bill.period.desc(), Bill.unit_id, limit=limit, offset=offset)


def bill_summary(bill: Bill) -> BillRead:
    return BillRead(
        id=bill.id,
        site=bill.site,
        unit_id=bill.unit_id,
        period=bill.period,
        currency=bill.currency,
        previous_balance_cents=bill.previous_balance_cents,
        charges_cents=bill.charges_cents,
        amount_due_cents=bill.amount_due_cents,
        due_date=bill.due_date,
        issued_at=bill.issued_at,
        lines=[],
    )


async def read_bill(session: AsyncSession, principal: Principal, bill: Bill) -> BillRead:
    """A bill as issued, with its lines, the unit and payer, what is still unpaid of it today and what the unit has
    paid since it was issued."""
    await check_owner(session, principal, bill.unit_id)
    charges = (await session.scalars(select(Charge).where(Charge.bill_id == bill.id).order_by(Charge.fee_item))).all()
    ledger = await unit_ledger(session, bill.site, bill.unit_id)
    unit = await session.get(Unit, bill.unit_id)
    payer = (await payers(session, {bill.unit_id: unit}, [bill.unit_id])).get(bill.unit_id) if unit else None
    read = bill_summary(bill)
    read.lines = [
        BillLine(
            charge_id=c.id,
            fee_item=c.fee_item or c.kind,
            item=c.item,
            amount_cents=c.amount_cents,
            outstanding_cents=ledger.outstanding.get(c.id),
        )
        for c in charges
    ]
    read.unit = unit_read(unit) if unit else None
    read.payer = payer_read(payer, full_phone=principal.has_any(PHONE_ROLES | {"owner"})) if payer else None
    read.outstanding_cents = sum(line.outstanding_cents or 0 for line in read.lines)
    read.balance_cents = ledger.balance_cents
    read.paid_since_cents = sum(p.amount_cents for p in ledger.payments if p.received_at >= bill.issued_at)
    return read
