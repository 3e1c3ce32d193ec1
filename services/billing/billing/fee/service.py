"""Fee items and their effective-dated rates: the formulas a billing run charges each unit by, and the managers'
changes to them (never reaching back into a period already issued)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.fee.models import (
    FIRST_PERIOD,
    MANAGEMENT_FEE_CODE,
    FeeItem,
    FeeItemCreate,
    FeeItemRead,
    FeeItemUpdate,
    FeeRate,
    FeeRateCreate,
    FeeRateRead,
    FeeRates,
)
from billing.period.models import BillingPeriod
from pm_platform.auth import Principal
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Invalid
from pm_platform.uow import UnitOfWork

# --- the formulas: pure rules ------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """2.8000 -> "2.8": a rate as the API shows it, exact."""
    return f"{value.normalize():f}"


def to_fen(yuan: Decimal) -> int:
    """The one rounding rule: an exact amount in yuan to whole fen, half up (as a cashier rounds)."""
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def billed_in(period: str, cycle_months: int) -> bool:
    """A monthly item is billed every period; a quarterly one in January, April, July and October; a yearly one in
    January (each charge covers the whole cycle)."""
    return (int(period[5:7]) - 1) % cycle_months == 0


def rate_in_force(rates: Sequence[FeeRate], period: str) -> FeeRate | None:
    """The version of the rates that applies to a period: the latest one effective from it or before."""
    return max((r for r in rates if r.effective_from <= period), key=lambda r: r.effective_from, default=None)


@dataclass(frozen=True)
class Line:
    """One unit's charge for one fee item and period: quantity x rate x months, in fen."""

    quantity: Decimal  # m² for an area fee, 1 otherwise
    rate: Decimal
    months: int
    amount_cents: int


def unit_rate(rate: FeeRate, use: str, occupied: bool) -> Decimal:
    if not occupied and rate.vacant_rate is not None:
        return rate.vacant_rate
    by_use = rate.by_use.get(use)
    return Decimal(by_use) if by_use is not None else rate.rate


def line_for(formula: str, cycle_months: int, rate: FeeRate, area_m2: Decimal, use: str, occupied: bool) -> Line | None:
    """What a unit owes for an item in a period it is billed in; None when the formula does not reach the unit
    (a household fee on an empty unit)."""
    if formula == "per_household" and not occupied:
        return None
    quantity = area_m2 if formula == "area" else Decimal(1)
    per_month = unit_rate(rate, use, occupied)
    return Line(quantity, per_month, cycle_months, to_fen(quantity * per_month * cycle_months))


def tiered_yuan(quantity: Decimal, rate: FeeRate) -> Decimal:
    """A metered quantity priced exactly through the tiers (each tier's rate on the part of the quantity within
    it), or at the flat rate without tiers: rounded by the caller, once."""
    if not rate.tiers:
        return quantity * rate.rate
    yuan, floor = Decimal(0), Decimal(0)
    for tier in rate.tiers:
        ceiling = Decimal(tier["up_to"]) if tier["up_to"] is not None else None
        upper = quantity if ceiling is None else min(quantity, ceiling)
        if upper > floor:
            yuan += (upper - floor) * Decimal(tier["rate"] or 0)
        if ceiling is None or quantity <= ceiling:
            break
        floor = ceiling
    return yuan


def metered_cents(quantity: Decimal, rate: FeeRate) -> int:
    return to_fen(tiered_yuan(quantity, rate))


# --- reads -------------------------------------------------------------------------------------------


def rate_read(rate: FeeRate) -> FeeRateRead:
    return FeeRateRead(
        effective_from=rate.effective_from,
        rate=decimal_text(rate.rate),
        by_use=dict(rate.by_use),
        vacant_rate=decimal_text(rate.vacant_rate) if rate.vacant_rate is not None else None,
        tiers=[dict(tier) for tier in rate.tiers or []],
        set_by=rate.set_by,
        set_at=rate.set_at,
    )


def item_read(item: FeeItem, rates: Sequence[FeeRate]) -> FeeItemRead:
    return FeeItemRead.model_validate(
        {
            "id": item.id,
            "site": item.site,
            "code": item.code,
            "name": item.name,
            "formula": item.formula,
            "meter_kind": item.meter_kind,
            "cycle_months": item.cycle_months,
            "active": item.active,
            "rates": [rate_read(r) for r in sorted(rates, key=lambda r: r.effective_from, reverse=True)],
            "updated_at": item.updated_at,
        }
    )


async def items_with_rates(
    session: AsyncSession, site: str, *, active_only: bool = False
) -> list[tuple[FeeItem, list[FeeRate]]]:
    query = select(FeeItem).where(FeeItem.site == site).order_by(FeeItem.code)
    if active_only:
        query = query.where(FeeItem.active.is_(True))
    items = (await session.scalars(query)).all()
    rates: dict[str, list[FeeRate]] = {item.id: [] for item in items}
    if items:
        for rate in (await session.scalars(select(FeeRate).where(FeeRate.fee_item_id.in_(list(rates))))).all():
            rates[rate.fee_item_id].append(rate)
    return [(item, rates[item.id]) for item in items]


async def list_items(session: AsyncSession, site: str) -> list[FeeItemRead]:
    return [item_read(item, rates) for item, rates in await items_with_rates(session, site)]


async def read_item(session: AsyncSession, item: FeeItem) -> FeeItemRead:
    rates = (await session.scalars(select(FeeRate).where(FeeRate.fee_item_id == item.id))).all()
    return item_read(item, rates)


async def item_of(session: AsyncSession, site: str, code: str) -> FeeItem | None:
    return (await session.scalars(select(FeeItem).where(FeeItem.site == site, FeeItem.code == code))).first()


# --- changes -----------------------------------------------------------------------------------------


async def first_open_period(session: AsyncSession, site: str) -> str:
    """The first period of the site not issued yet: the earliest a new rate may apply from."""
    latest = await session.scalar(select(func.max(BillingPeriod.period)).where(BillingPeriod.site == site))
    if latest is None:
        return FIRST_PERIOD
    year, month = int(latest[:4]), int(latest[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


async def _put_rate(session: AsyncSession, item: FeeItem, rates: FeeRates, effective_from: str, by: str) -> FeeRate:
    """Add the version in force from ``effective_from``, or replace the one already starting then (it has not been
    billed: the period is open)."""
    version = (
        await session.scalars(
            select(FeeRate).where(FeeRate.fee_item_id == item.id, FeeRate.effective_from == effective_from)
        )
    ).first()
    if version is None:
        version = FeeRate(id=new_id(), fee_item_id=item.id, effective_from=effective_from)
        session.add(version)
    version.rate = rates.rate
    version.by_use = {use: decimal_text(value) for use, value in sorted(rates.by_use.items())}
    version.vacant_rate = rates.vacant_rate
    version.tiers = [
        {"up_to": decimal_text(t.up_to) if t.up_to is not None else None, "rate": decimal_text(t.rate)}
        for t in rates.tiers
    ]
    version.set_by = by
    version.set_at = utcnow()
    item.updated_at = version.set_at
    return version


async def _check_open(session: AsyncSession, site: str, effective_from: str) -> None:
    first_open = await first_open_period(session, site)
    if effective_from < first_open:
        raise Conflict(
            f"period {effective_from} of {site} is issued already: a rate can apply from {first_open} on",
            field="effective_from",
            first_open_period=first_open,
        )


def _check_tiers(formula: str, rates: FeeRates) -> None:
    if rates.tiers and formula != "metered":
        raise Invalid("only a metered item has tiers", field="tiers")


async def _check_metered(session: AsyncSession, site: str, body: FeeItemCreate) -> None:
    """A metered item names its meters, bills each month's consumption, and is the only active one of its kind (a
    meter's consumption is billed once)."""
    if body.formula != "metered":
        if body.meter_kind is not None:
            raise Invalid("only a metered item names a meter kind", field="meter_kind")
        return
    if body.meter_kind is None:
        raise Invalid("a metered item names its meter kind", field="meter_kind")
    if body.cycle_months != 1:
        raise Invalid("a metered item bills each month's readings: cycle_months 1", field="cycle_months")
    other = (
        await session.scalars(
            select(FeeItem.code).where(
                FeeItem.site == site, FeeItem.meter_kind == body.meter_kind, FeeItem.active.is_(True)
            )
        )
    ).first()
    if other is not None:
        raise Conflict(f"fee item {other} bills the {body.meter_kind} meters already", field="meter_kind")


async def create_item(uow: UnitOfWork, principal: Principal, site: str, body: FeeItemCreate) -> FeeItem:
    if await item_of(uow.session, site, body.code) is not None:
        raise Conflict(f"site {site} has a fee item {body.code} already", field="code")
    _check_tiers(body.formula, body)
    await _check_metered(uow.session, site, body)
    effective_from = body.effective_from or await first_open_period(uow.session, site)
    await _check_open(uow.session, site, effective_from)
    now = utcnow()
    item = FeeItem(
        id=new_id(),
        site=site,
        code=body.code,
        name=body.name,
        formula=body.formula,
        meter_kind=body.meter_kind,
        cycle_months=body.cycle_months,
        active=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(item)
    await _put_rate(uow.session, item, body, effective_from, principal.subject)
    await uow.commit()
    return item


async def update_item(uow: UnitOfWork, item: FeeItem, body: FeeItemUpdate) -> FeeItem:
    """Rename an item, or stop (and restart) billing it from the next run on; its history stays."""
    if body.name is not None:
        item.name = body.name
    if body.active is not None:
        item.active = body.active
    item.updated_at = utcnow()
    await uow.commit()
    return item


async def add_rate(uow: UnitOfWork, principal: Principal, item: FeeItem, body: FeeRateCreate) -> FeeItem:
    _check_tiers(item.formula, body)
    await _check_open(uow.session, item.site, body.effective_from)
    await _put_rate(uow.session, item, body, body.effective_from, principal.subject)
    await uow.commit()
    return item


async def set_management_rate(session: AsyncSession, site: str, rate: Decimal, by: str) -> None:
    """The site's billing settings publish the management fee's area rate: it applies from the first open period
    (the item is made on first use). The caller commits."""
    item = await item_of(session, site, MANAGEMENT_FEE_CODE)
    if item is None:
        now = utcnow()
        item = FeeItem(
            id=new_id(),
            site=site,
            code=MANAGEMENT_FEE_CODE,
            name="Property management fee",
            formula="area",
            meter_kind=None,
            cycle_months=1,
            active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(item)
        await session.flush()
    rates = (await session.scalars(select(FeeRate).where(FeeRate.fee_item_id == item.id))).all()
    effective_from = await first_open_period(session, site)
    current = rate_in_force(rates, effective_from)
    if current is not None and current.rate == rate and not current.by_use and current.vacant_rate is None:
        return  # unchanged: no new version
    await _put_rate(session, item, FeeRates(rate=rate), effective_from, by)
