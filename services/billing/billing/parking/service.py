"""Parking: the fee of a stay (a pure rule), the register of spaces and the site's tariff, the gate's sessions with
the fee taken at exit (an income row with its receipt), and the lines the monthly run charges for spaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.directory.models import Unit
from billing.directory.service import site_timezone
from billing.income.models import IncomeRead, IncomeReceipt
from billing.income.service import commit_income, record_income
from billing.parking.models import (
    FEE_PAYING,
    PARKING,
    PARKING_MANAGEMENT,
    TEMPORARY_PARKING,
    ParkingSession,
    ParkingSpace,
    ParkingTariff,
    SessionEnter,
    SessionExit,
    SessionRead,
    SpaceCreate,
    SpaceUpdate,
    TariffPut,
    TariffRead,
)
from pm_platform.auth import Principal
from pm_platform.db import fetch_page
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.sitetime import zone
from pm_platform.uow import UnitOfWork

DAY_SECONDS = 24 * 3600

# --- the rules: pure --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tariff:
    free_minutes: int
    hourly_cents: int
    daily_cap_cents: int


def parking_fee(stay: timedelta, tariff: Tariff) -> int:
    """The fee of a stay, in fen: nothing when it is out within the free minutes; else every started hour from entry
    at the hourly price, each 24 hours from entry costing at most the daily cap (a whole 24 hours costs the cap, or
    24 hours' price when that is less). Grows with the stay and never passes the cap per started 24 hours."""
    seconds = max(stay.days * DAY_SECONDS + stay.seconds, 0)
    if seconds <= tariff.free_minutes * 60:
        return 0
    per_day = min(tariff.daily_cap_cents, 24 * tariff.hourly_cents)
    days, rest = divmod(seconds, DAY_SECONDS)
    started_hours = -(-rest // 3600)
    return days * per_day + min(started_hours * tariff.hourly_cents, per_day)


def month_of_day(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def held_in(period: str, starts_on: date | None, ends_on: date | None) -> bool:
    """Whether a holding from ``starts_on`` to ``ends_on`` (either open) reaches into a period: it pays the month's
    whole fee for every month it touches."""
    return (starts_on is None or month_of_day(starts_on) <= period) and (
        ends_on is None or month_of_day(ends_on) >= period
    )


def space_lines(
    spaces: Sequence[ParkingSpace], period: str, owned_fee_cents: int | None
) -> list[tuple[str, str, str, int]]:
    """The period's charges of held spaces as (unit, fee item, what, fen): a leased or rented space's monthly fee;
    an owned one's management fee when the site sets one."""
    lines: list[tuple[str, str, str, int]] = []
    for space in sorted(spaces, key=lambda s: s.code):
        if space.unit_id is None or not held_in(period, space.starts_on, space.ends_on):
            continue
        if space.kind in FEE_PAYING and space.monthly_fee_cents:
            lines.append((space.unit_id, PARKING, f"{space.code} ({space.kind})", space.monthly_fee_cents))
        elif space.kind == "owned" and owned_fee_cents:
            lines.append((space.unit_id, PARKING_MANAGEMENT, space.code, owned_fee_cents))
    return lines


async def monthly_lines(session: AsyncSession, site: str, period: str) -> list[tuple[str, str, str, int]]:
    """The whole site's space charges for a period (two statements, whatever the number of units)."""
    spaces = (
        await session.scalars(select(ParkingSpace).where(ParkingSpace.site == site, ParkingSpace.unit_id.is_not(None)))
    ).all()
    if not spaces:
        return []
    tariff = await session.get(ParkingTariff, site)
    return space_lines(spaces, period, tariff.owned_monthly_fee_cents if tariff else None)


# --- the register ------------------------------------------------------------------------------------


async def _check_space(session: AsyncSession, space: ParkingSpace) -> None:
    if space.kind in FEE_PAYING and space.monthly_fee_cents is None:
        raise Invalid(f"a {space.kind} space has a monthly fee", field="monthly_fee_cents")
    if space.kind == "owned" and space.monthly_fee_cents is not None:
        raise Invalid(
            "an owned space has no rent: its management fee is the site's (parking tariff)", field="monthly_fee_cents"
        )
    if space.starts_on and space.ends_on and space.ends_on < space.starts_on:
        raise Invalid("a holding ends on or after its first day", field="ends_on")
    if space.unit_id is not None:
        unit = await session.get(Unit, space.unit_id)
        if unit is None or unit.site != space.site:
            raise Invalid(f"unit {space.unit_id} is not a unit of site {space.site}", field="unit_id")


async def create_space(uow: UnitOfWork, principal: Principal, site: str, body: SpaceCreate) -> ParkingSpace:
    existing = (
        await uow.session.scalars(select(ParkingSpace).where(ParkingSpace.site == site, ParkingSpace.code == body.code))
    ).first()
    if existing is not None:
        raise Conflict(f"site {site} has a space {body.code} already", field="code")
    space = ParkingSpace(id=new_id(), site=site, **body.model_dump(), updated_by=principal.subject, updated_at=utcnow())
    await _check_space(uow.session, space)
    uow.session.add(space)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(f"site {site} has a space {body.code} already", field="code") from None
    return space


async def update_space(uow: UnitOfWork, principal: Principal, space: ParkingSpace, body: SpaceUpdate) -> ParkingSpace:
    """A change of holder, fee or dates applies from the next billing run on (a period billed stays as billed)."""
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name in ("zone", "kind"):
            raise Invalid(f"{name} cannot be cleared", field=name)
        setattr(space, name, value)
    await _check_space(uow.session, space)
    space.updated_by, space.updated_at = principal.subject, utcnow()
    await uow.commit()
    return space


async def list_spaces(
    session: AsyncSession,
    site: str,
    *,
    kind: str | None,
    unit_id: str | None,
    zone_name: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[ParkingSpace], int]:
    query = select(ParkingSpace).where(ParkingSpace.site == site)
    if kind:
        query = query.where(ParkingSpace.kind == kind)
    if unit_id:
        query = query.where(ParkingSpace.unit_id == unit_id)
    if zone_name:
        query = query.where(ParkingSpace.zone == zone_name)
    return await fetch_page(session, query, ParkingSpace.zone, ParkingSpace.code, limit=limit, offset=offset)


# --- the tariff --------------------------------------------------------------------------------------


def tariff_read(row: ParkingTariff) -> TariffRead:
    return TariffRead.model_validate(row, from_attributes=True)


async def site_tariff(session: AsyncSession, site: str) -> ParkingTariff:
    row = await session.get(ParkingTariff, site)
    if row is None:
        raise NotFound(f"site {site} has no parking tariff: a manager sets it", field="site")
    return row


async def put_tariff(uow: UnitOfWork, principal: Principal, site: str, body: TariffPut) -> ParkingTariff:
    """The tariff from now on: a car still in pays at exit by the tariff then in force."""
    row = await uow.session.get(ParkingTariff, site)
    if row is None:
        row = ParkingTariff(site=site)
        uow.session.add(row)
    for name, value in body.model_dump().items():
        setattr(row, name, value)
    row.updated_by, row.updated_at = principal.subject, utcnow()
    await uow.commit()
    return row


def rule_of(row: ParkingTariff) -> Tariff:
    return Tariff(row.free_minutes, row.hourly_cents, row.daily_cap_cents)


# --- the gate ----------------------------------------------------------------------------------------


async def enter(uow: UnitOfWork, principal: Principal, site: str, body: SessionEnter) -> ParkingSession:
    plate = body.plate  # upper case already (Plate)
    now = utcnow()
    entered_at = body.entered_at or now
    if entered_at > now:
        raise Invalid("a car cannot enter in the future", field="entered_at")
    inside = (
        await uow.session.scalars(
            select(ParkingSession).where(ParkingSession.site == site, ParkingSession.open_plate == plate)
        )
    ).first()
    if inside is not None:
        raise Conflict(f"{plate} is in since {as_utc(inside.entered_at).isoformat()}", field="plate", id=inside.id)
    session = ParkingSession(
        id=new_id(), site=site, plate=plate, open_plate=plate, entered_at=entered_at, entered_by=principal.subject
    )
    uow.session.add(session)
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(f"{plate} entered concurrently", field="plate") from None
    return session


async def exit_session(
    uow: UnitOfWork, principal: Principal, parked: ParkingSession, body: SessionExit
) -> tuple[ParkingSession, IncomeReceipt | None]:
    """The car leaves now: its fee by the site's tariff, paid (a receipt) unless the stay was free."""
    if parked.exited_at is not None:
        raise Conflict(f"{parked.plate} left at {as_utc(parked.exited_at).isoformat()}", field="session_id")
    tariff = await uow.session.get(ParkingTariff, parked.site)
    if tariff is None:
        raise Conflict(f"site {parked.site} has no parking tariff: a manager sets it", field="site")
    now = utcnow()
    fee = parking_fee(now - as_utc(parked.entered_at), rule_of(tariff))
    if body.expected_cents is not None and body.expected_cents != fee:
        raise Conflict(f"the fee is now {fee} fen", field="expected_cents", fee_cents=fee)
    receipt = None
    if fee > 0:
        if body.method is None:
            raise Invalid(f"a fee of {fee} fen is paid: say how", field="method")
        receipt = await record_income(
            uow,
            principal,
            site=parked.site,
            fee_item=TEMPORARY_PARKING,
            source="parking_session",
            source_id=parked.id,
            settles=f"parking:{parked.id}",
            payer=parked.plate,
            item=await stay_text(uow.session, parked, now),
            amount_cents=fee,
            method=body.method,
            reference=body.reference,
        )
    parked.exited_at, parked.exited_by, parked.open_plate = now, principal.subject, None
    parked.fee_cents, parked.income_id = fee, receipt.id if receipt else None
    await commit_income(uow)
    return parked, receipt


async def stay_text(session: AsyncSession, parked: ParkingSession, until: datetime) -> str:
    local = zone(await site_timezone(session, parked.site))
    start, end = as_utc(parked.entered_at).astimezone(local), until.astimezone(local)
    return f"Temporary parking {parked.plate} {start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M}"


async def session_read(session: AsyncSession, parked: ParkingSession) -> SessionRead:
    read = SessionRead.model_validate(parked, from_attributes=True)
    if parked.exited_at is None:
        tariff = await session.get(ParkingTariff, parked.site)
        if tariff is not None:
            read.due_now_cents = parking_fee(utcnow() - as_utc(parked.entered_at), rule_of(tariff))
    elif parked.income_id:
        receipt = await session.get(IncomeReceipt, parked.income_id)
        read.receipt = IncomeRead.of(receipt) if receipt else None
    return read


async def list_sessions(
    session: AsyncSession, site: str, *, inside: bool | None, plate: str | None, limit: int, offset: int
) -> tuple[Sequence[ParkingSession], int]:
    query = select(ParkingSession).where(ParkingSession.site == site)
    if inside is not None:
        query = query.where(ParkingSession.exited_at.is_(None) if inside else ParkingSession.exited_at.is_not(None))
    if plate:
        query = query.where(ParkingSession.plate == plate.upper())
    return await fetch_page(
        session, query, ParkingSession.entered_at.desc(), ParkingSession.id, limit=limit, offset=offset
    )
