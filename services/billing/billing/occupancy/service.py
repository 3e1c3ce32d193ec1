"""Occupancy use cases: keep each unit's stays from intake's move-in and move-out events (an older event never undoes
a newer one), read them once per billing run (the stays that change inside the period's spans, and the fee items a
move-out's settlement charged for the period), post a move-out's final bill, and read a unit's occupancy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.models import MANAGEMENT_FEE, PERIODIC_FEE, Charge
from billing.account.service import refresh_status, repair_due_days, site_currency, watch_due_date
from billing.directory.models import Unit
from billing.directory.service import site_today
from billing.fee.models import MANAGEMENT_FEE_CODE, FeeItem, FeeRate
from billing.fee.service import items_with_rates, line_for, metered_cents, rate_in_force
from billing.meter.models import CLEAN, Meter
from billing.meter.service import record_final_reading
from billing.occupancy.models import (
    AccountClosure,
    FinalCharge,
    FinalChargeKind,
    FinalChargeRead,
    Occupancy,
    OccupancyRead,
    StayRead,
)
from billing.occupancy.proration import Share, Stay, cycle_span, occupied_days, share_of
from pm_events.intake import OccupancyMovedIn, OccupancyMovedOut, OccupancySettlementRequested
from pm_platform.envelope import as_utc, new_id, parse_utc, utcnow
from pm_platform.uow import UnitOfWork

# --- stays, from intake's events -------------------------------------------------------------------------


async def _stay(uow: UnitOfWork, site: str, unit_id: str, party_id: str) -> Occupancy:
    stay = (
        await uow.session.scalars(
            select(Occupancy)
            .where(Occupancy.site == site, Occupancy.unit_id == unit_id, Occupancy.party_id == party_id)
            .with_for_update()
        )
    ).first()
    if stay is None:
        stay = Occupancy(id=new_id(), site=site, unit_id=unit_id, party_id=party_id, updated_at=utcnow())
        uow.session.add(stay)
    return stay


def _newer(at: datetime, than: datetime | None) -> bool:
    return than is None or at > as_utc(than)


async def moved_in(uow: UnitOfWork, data: OccupancyMovedIn) -> Occupancy:
    """A party moved in: their stay starts on the day. A newer move-in than the stay's move-out starts a new stay
    (the move-out was an earlier one's); an older one than the move-in held changes nothing. A closed account opens
    again."""
    at = parse_utc(data.moved_in_at)
    stay = await _stay(uow, data.site, data.unit_id, data.party_id)
    if not _newer(at, stay.moved_in_at):
        return stay
    stay.move_in_id, stay.move_in_date, stay.moved_in_at = data.move_in_id, date.fromisoformat(data.move_in_date), at
    if stay.moved_out_at is not None and as_utc(stay.moved_out_at) < at:
        stay.move_out_id = stay.move_out_date = stay.moved_out_at = None
    stay.updated_at = utcnow()
    closure = await uow.session.get(AccountClosure, data.unit_id, with_for_update=True)
    if closure is not None and closure.reopened_at is None and as_utc(closure.closed_at) < at:
        closure.reopened_at, closure.reopened_by_move_in = utcnow(), data.move_in_id
    return stay


async def moved_out(uow: UnitOfWork, data: OccupancyMovedOut) -> Occupancy:
    """A party moved out: their stay ends on the day. A move-out older than the stay's move-in belongs to an earlier
    stay, and one older than the move-out held changes nothing."""
    at = parse_utc(data.moved_out_at)
    stay = await _stay(uow, data.site, data.unit_id, data.party_id)
    if not _newer(at, stay.moved_out_at) or (stay.moved_in_at is not None and as_utc(stay.moved_in_at) > at):
        return stay
    stay.move_out_id, stay.move_out_date, stay.moved_out_at = (
        data.move_out_id,
        date.fromisoformat(data.move_out_date),
        at,
    )
    stay.updated_at = utcnow()
    return stay


# --- the billing run: read once per site and period ------------------------------------------------------


@dataclass
class RunOccupancy:
    """What a run needs of occupancy: the stays of the units whose occupancy changes inside the period's spans, and
    what a move-out's settlement already charged of each fee item for the period."""

    period: str
    stays: dict[str, list[Stay]] = field(default_factory=dict)
    settled_cents: dict[tuple[str, str], int] = field(default_factory=dict)  # (unit id, fee item) -> fen

    def share(self, unit_id: str, cycle_months: int) -> Share | None:
        stays = self.stays.get(unit_id)
        return share_of(stays, self.period, cycle_months) if stays else None

    def settled(self, unit_id: str, fee_item: str) -> int | None:
        """What the unit's move-outs charged of the item for the period, or None when no settlement charged it."""
        return self.settled_cents.get((unit_id, fee_item))


def not_final_charge(site: str) -> ColumnElement[bool]:
    """A charge a move-out's settlement did not post (the run passes over a unit billed already, not one whose
    leaving party settled some items: its other items are billed)."""
    return Charge.id.not_in(select(FinalCharge.charge_id).where(FinalCharge.site == site))


async def for_run(session: AsyncSession, site: str, period: str) -> RunOccupancy:
    """Two statements for the whole site: the stays of every unit with a move-in or move-out inside the longest span
    a charge of the period covers (a year), and the items its move-outs settled for the period."""
    start, end = cycle_span(period, 12)
    changing = select(Occupancy.unit_id).where(
        Occupancy.site == site,
        or_(
            (Occupancy.move_in_date > start) & (Occupancy.move_in_date < end),
            (Occupancy.move_out_date > start) & (Occupancy.move_out_date < end),
        ),
    )
    result = RunOccupancy(period)
    rows = await session.execute(
        select(Occupancy.unit_id, Occupancy.move_in_date, Occupancy.move_out_date).where(
            Occupancy.site == site, Occupancy.unit_id.in_(changing)
        )
    )
    for unit_id, move_in, move_out in rows:
        result.stays.setdefault(unit_id, []).append((move_in, move_out))
    settled = await session.execute(
        select(FinalCharge.unit_id, FinalCharge.fee_item, func.sum(FinalCharge.amount_cents))
        .where(FinalCharge.site == site, FinalCharge.period == period, FinalCharge.kind != "credit")
        .group_by(FinalCharge.unit_id, FinalCharge.fee_item)
    )
    result.settled_cents = {(unit_id, fee_item): int(cents) for unit_id, fee_item, cents in settled}
    return result


# --- a move-out's final bill -----------------------------------------------------------------------------


@dataclass
class FinalBill:
    """A move-out's final charges, as they are posted, and what it could not charge, each with its reason."""

    settlement_id: str
    site: str
    unit_id: str
    currency: str
    now: datetime
    charges: list[Charge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(c.amount_cents for c in self.charges)

    def post(
        self,
        session: AsyncSession,
        item: FeeItem,
        period: str,
        text: str,
        amount_cents: int,
        kind: FinalChargeKind,
        share: Share | None,
        due_date: date,
    ) -> None:
        charge = Charge(
            id=new_id(),
            site=self.site,
            unit_id=self.unit_id,
            kind=MANAGEMENT_FEE if item.code == MANAGEMENT_FEE_CODE else PERIODIC_FEE,
            fee_item=item.code,
            item=text[:120],
            amount_cents=amount_cents,
            currency=self.currency,
            # A credit is not the period's charge (that one stands): it carries no period, so the one charge per
            # unit, item and period holds.
            period=None if kind == "credit" else period,
            due_date=due_date,
            recorded_at=self.now,
        )
        session.add(charge)
        session.add(
            FinalCharge(
                charge_id=charge.id,
                settlement_id=self.settlement_id,
                site=self.site,
                unit_id=self.unit_id,
                fee_item=item.code,
                period=period,
                kind=kind,
                days=share.days if share else None,
                span_days=share.span_days if share else None,
                amount_cents=amount_cents,
            )
        )
        self.charges.append(charge)


async def _unit_stays(session: AsyncSession, site: str, unit_id: str, party_id: str, move_out: date) -> list[Stay]:
    """The unit's stays with the leaving party's ending on the move-out day (from before anything billing knows,
    when billing never heard of their move-in)."""
    rows = (await session.scalars(select(Occupancy).where(Occupancy.site == site, Occupancy.unit_id == unit_id))).all()
    stays: list[Stay] = [(r.move_in_date, r.move_out_date) for r in rows if r.party_id != party_id]
    leaving = next((r for r in rows if r.party_id == party_id), None)
    stays.append((leaving.move_in_date if leaving else None, move_out))
    return stays


def cycle_period(day: date, cycle_months: int) -> str:
    """The period that bills the cycle ``day`` falls in (the month, or the quarter's or year's first month)."""
    month = (day.month - 1) // cycle_months * cycle_months + 1
    return f"{day.year:04d}-{month:02d}"


async def final_bill(uow: UnitOfWork, data: OccupancySettlementRequested) -> FinalBill:
    """Post a move-out's final charges on the unit's account, before billing answers the settlement:

    - each active periodic fee item (area, per unit, per household) for the cycle the move-out day falls in: not
      billed yet for the unit, the occupied days up to the move-out day (prorated, like the run); billed already, a
      credit of what the charge exceeds that by (the unoccupied days from the move-out day on), a negative charge;
    - each final reading of a meter kind the unit has a meter of: recorded as the meter's reading for the site's
      first open period (the next one is measured from it) and, when clean and an active metered item bills the
      kind, its consumption charged (a flagged reading waits for a manager, and the run of that period bills it)."""
    session, site, unit_id = uow.session, data.site, data.unit_id
    move_out = date.fromisoformat(data.move_out_date)
    bill = FinalBill(data.settlement_id, site, unit_id, await site_currency(session, site), utcnow())
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.site != site:
        bill.notes.append(f"unit {unit_id} is not known to billing: no final charges")
        return bill
    due = await site_today(session, site) + timedelta(days=await repair_due_days(session, site))
    stays = await _unit_stays(session, site, unit_id, data.party_id, move_out)
    items = await items_with_rates(session, site, active_only=True)
    billed = {
        (c.fee_item, c.period): c
        for c in (
            await session.scalars(
                select(Charge).where(
                    Charge.site == site,
                    Charge.unit_id == unit_id,
                    Charge.fee_item.is_not(None),
                    Charge.period.is_not(None),
                )
            )
        ).all()
    }
    for item, rates in items:
        if item.formula == "metered":
            continue
        period = cycle_period(move_out, item.cycle_months)
        rate = rate_in_force(rates, period)
        line = line_for(item.formula, item.cycle_months, rate, unit.area_m2, unit.use, True) if rate else None
        if line is None:
            continue
        start, end = cycle_span(period, item.cycle_months)
        share = Share(occupied_days(start, end, stays), (end - start).days)
        amount = share.of(line)
        charged = billed.get((item.code, period))
        if charged is None:
            if amount > 0:
                text = share.label(f"{item.name} {period}: to the move-out on {move_out.isoformat()}")
                bill.post(session, item, period, text, amount, "prorated", share, due)
        elif charged.amount_cents > amount:
            unoccupied = Share(share.span_days - share.days, share.span_days)
            text = unoccupied.label(f"Credit: {item.name} {period}, unoccupied from the move-out on {move_out}")
            bill.post(
                session, item, period, text, amount - charged.amount_cents, "credit", unoccupied, charged.due_date
            )
    await _final_readings(session, data, unit, items, billed, bill, due)
    if bill.charges:
        await session.flush()
        await watch_due_date(uow, site, unit_id, due)
        await refresh_status(uow, site, unit_id, reason="charge", correlation_id=data.settlement_id)
    return bill


async def _final_readings(
    session: AsyncSession,
    data: OccupancySettlementRequested,
    unit: Unit,
    items: Sequence[tuple[FeeItem, Sequence[FeeRate]]],
    billed: dict[tuple[str | None, str | None], Charge],
    bill: FinalBill,
    due: date,
) -> None:
    """The final readings: each recorded on the unit's meter of its kind and its clean consumption charged."""
    if not data.final_readings:
        return
    meters = {
        m.kind: m
        for m in (
            await session.scalars(
                select(Meter).where(
                    Meter.site == unit.site, Meter.unit_id == unit.id, Meter.scope == "unit", Meter.active.is_(True)
                )
            )
        ).all()
    }
    metered = {item.meter_kind: (item, rates) for item, rates in items if item.formula == "metered"}
    for final in data.final_readings:
        meter = meters.get(final.meter)
        if meter is None:
            bill.notes.append(f"{final.meter} {final.value}: the unit has no {final.meter} meter in use, not billed")
            continue
        reading = await record_final_reading(session, meter, Decimal(final.value), by=f"move-out {data.settlement_id}")
        if reading.status not in CLEAN:
            bill.notes.append(
                f"{final.meter} meter {meter.serial}: the final reading {final.value} is {reading.status}; the run of "
                f"{reading.period} bills it once a manager confirms it"
            )
            continue
        found = metered.get(final.meter)
        rate = rate_in_force(found[1], reading.period) if found else None
        if found is None or rate is None:
            bill.notes.append(f"{final.meter}: no metered fee item bills it, the final reading is recorded only")
            continue
        item = found[0]
        amount = metered_cents(reading.consumption, rate) if reading.consumption > 0 else 0
        if amount <= 0 or (item.code, reading.period) in billed:
            continue
        text = f"{item.name} {reading.period}: final reading {final.value} at the move-out, {reading.consumption:.2f}"
        bill.post(session, item, reading.period, text, amount, "metered", None, due)


# --- reads -------------------------------------------------------------------------------------------------


async def unit_occupancy(session: AsyncSession, site: str, unit_id: str) -> OccupancyRead:
    stays = (
        await session.scalars(
            select(Occupancy)
            .where(Occupancy.site == site, Occupancy.unit_id == unit_id)
            .order_by(Occupancy.move_in_date.desc(), Occupancy.party_id)
        )
    ).all()
    finals = (
        await session.scalars(
            select(FinalCharge)
            .where(FinalCharge.site == site, FinalCharge.unit_id == unit_id)
            .order_by(FinalCharge.period, FinalCharge.fee_item)
        )
    ).all()
    closure = await session.get(AccountClosure, unit_id)
    closed = closure is not None and closure.site == site and closure.reopened_at is None
    return OccupancyRead(
        site=site,
        unit_id=unit_id,
        occupied=any(s.move_in_date is not None and s.move_out_date is None for s in stays),
        account_status="closed" if closed else "open",
        closed_at=closure.closed_at if closed and closure else None,
        closed_by_settlement=closure.settlement_id if closed and closure else None,
        stays=[StayRead.model_validate(s, from_attributes=True) for s in stays],
        final_charges=[FinalChargeRead.model_validate(f, from_attributes=True) for f in finals],
    )
