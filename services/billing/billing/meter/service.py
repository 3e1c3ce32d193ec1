"""Meters, their readings and the checks on them, the split of shared meters (公摊), and the metered consumption
the billing run bills. Pure rules first, then the reads and changes."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing.directory.models import Unit, UnitFacts
from billing.fee.service import decimal_text, first_open_period
from billing.meter.models import (
    ABNORMAL_FACTOR,
    AVERAGE_OF,
    CLEAN,
    FLAGGED,
    ApportionBy,
    ApportionmentReport,
    ImportResult,
    ListedStatus,
    Meter,
    MeterCreate,
    MeterFacts,
    MeterKind,
    MeterRead,
    MeterReading,
    MeterRow,
    MeterScope,
    MeterUpdate,
    ReadingConfirm,
    ReadingCreate,
    ReadingFacts,
    ReadingRead,
    ReadingRow,
    ReadingSource,
    ReadingStatus,
    SharePart,
    SplitRead,
)
from pm_platform.auth import Principal
from pm_platform.db import fetch_page
from pm_platform.envelope import new_id, utcnow
from pm_platform.errors import Conflict, Invalid, NotFound
from pm_platform.uow import UnitOfWork

# --- the rules: pure --------------------------------------------------------------------------------


def apportion(total: int, weights: Mapping[str, Decimal | int]) -> dict[str, int]:
    """Split ``total`` (whole units: hundredths of a m³, fen) in proportion to ``weights`` so that the parts add up
    to it exactly: each key gets the whole part of its exact share, and what is left goes one by one to the largest
    remainders (a tie to the smaller key). Each part is within 1 of its exact share; the same input, in any order,
    gives the same split."""
    if total < 0:
        raise ValueError(f"cannot apportion a negative total {total}")
    # In whole numbers over one common denominator (a Fraction per unit made a site's split a second): each weight
    # as n/d, scaled to n * (lcm / d); a part's exact share is total * w / sum(w), its remainder that modulo sum(w).
    ratios = {key: weight.as_integer_ratio() for key, weight in weights.items()}
    if any(numerator < 0 for numerator, _ in ratios.values()):
        raise ValueError("a weight is negative")
    common = math.lcm(*(denominator for _, denominator in ratios.values())) if ratios else 1
    scaled = {key: numerator * (common // denominator) for key, (numerator, denominator) in ratios.items()}
    whole = sum(scaled.values())
    if whole == 0:
        raise ValueError("nothing to apportion by: the weights add up to 0")
    parts: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for key, weight in scaled.items():
        parts[key], remainder = divmod(total * weight, whole)
        remainders.append((remainder, key))
    left = total - sum(parts.values())
    for _, key in sorted(remainders, key=lambda r: (-r[0], r[1]))[:left]:
        parts[key] += 1
    return dict(sorted(parts.items()))


@dataclass(frozen=True)
class History:
    """What a new reading of a meter is checked against: its last clean reading (or the opening reading) and its
    last clean consumptions, newest first."""

    base: Decimal
    recent: tuple[Decimal, ...] = ()

    def after(self, value: Decimal, consumption: Decimal) -> History:
        return History(value, (consumption, *self.recent)[:AVERAGE_OF])


def assess(value: Decimal, history: History) -> ReadingStatus:
    """below_last: under the last clean reading (a roll-over or a misread); abnormal: more than ABNORMAL_FACTOR times
    the meter's average consumption (only once it has one above 0); else ok."""
    if value < history.base:
        return "below_last"
    if history.recent:
        average = sum(history.recent, Decimal(0)) / len(history.recent)
        if average > 0 and value - history.base > ABNORMAL_FACTOR * average:
            return "abnormal"
    return "ok"


def consumption_of(value: Decimal, base: Decimal, rollover_at: Decimal | None, *, confirmed: bool) -> Decimal:
    """What the meter measured since ``base``. A manager who confirms a reading below the last says the register
    wrapped (through ``rollover_at``) or, on a meter without one, was replaced and counts from 0."""
    if value >= base or not confirmed:
        return value - base
    if rollover_at is not None and rollover_at > base:
        return rollover_at - base + value
    return value


def restate(meter: Meter, history: History, readings: Sequence[MeterReading]) -> None:
    """Check ``readings`` (one meter's, oldest first, from the one just entered on) against the history before them:
    each is measured from the last clean one before it. A manager's confirmation stands; the rest are re-checked."""
    for reading in readings:
        confirmed = reading.status == "confirmed"
        reading.previous_value = history.base
        reading.consumption = consumption_of(reading.value, history.base, meter.rollover_at, confirmed=confirmed)
        if not confirmed:
            reading.status = assess(reading.value, history)
        if reading.status in CLEAN:
            history = history.after(reading.value, reading.consumption)


SPLITS: dict[str, ApportionBy] = {"area": "area", "household": "household", "equal": "equal"}


def weight_of(unit: UnitFacts, method: str) -> Decimal:
    if method == "area":
        return Decimal(unit.area_m2)
    if method == "household":
        return Decimal(1 if unit.occupied else 0)
    return Decimal(1)


M = TypeVar("M", bound=MeterFacts)


def meter_tree(meters: Sequence[M], building_of: Mapping[str, str]) -> dict[str, list[M]]:
    """Each shared meter's sub-meters, among ``meters`` (one kind, active): a building meter's are the unit meters
    of its building; a site meter's are the building meters and the unit meters of buildings without one."""
    unit_meters: dict[str, list[M]] = {}
    building_meters: dict[str, M] = {}
    for meter in meters:
        building = building_of.get(meter.unit_id or "")
        if meter.scope == "unit" and building is not None:
            unit_meters.setdefault(building, []).append(meter)
        elif meter.scope == "building" and meter.building is not None:
            building_meters[meter.building] = meter
    tree: dict[str, list[M]] = {}
    for meter in meters:
        if meter.scope == "building" and meter.building is not None:
            tree[meter.id] = unit_meters.get(meter.building, [])
        elif meter.scope == "site":
            unmetered = [m for b, ms in unit_meters.items() if b not in building_meters for m in ms]
            tree[meter.id] = list(building_meters.values()) + unmetered
    return tree


@dataclass(frozen=True)
class Split:
    """A shared meter's period: what it measured less its sub-meters, split to the units of its scope, or held."""

    meter: MeterFacts
    method: ApportionBy
    weights: dict[str, Decimal]
    consumption: Decimal | None = None
    sub_meters: Decimal | None = None
    parts: dict[str, Decimal] = field(default_factory=dict)
    reason: str | None = None  # why it is held

    @property
    def shared(self) -> Decimal | None:
        if self.consumption is None or self.sub_meters is None:
            return None
        return self.consumption - self.sub_meters


def split_shared(
    shared: MeterFacts, subs: Sequence[MeterFacts], readings: Mapping[str, ReadingFacts], sharing: Sequence[UnitFacts]
) -> Split:
    """Split ``shared``'s consumption less its sub-meters' among ``sharing`` (the units of its scope) by its method,
    in hundredths, exactly. Held (nothing split) unless the shared meter and every sub-meter were read cleanly."""
    method = SPLITS.get(shared.apportion_by or "", "area")
    weights = {unit.id: weight_of(unit, method) for unit in sharing}
    own = readings.get(shared.id)
    if own is None or own.status not in CLEAN:
        why = "no reading" if own is None else f"its reading is {own.status}"
        return Split(shared, method, weights, reason=f"shared meter {shared.serial}: {why}")
    unclean = [m.serial for m in subs if (r := readings.get(m.id)) is None or r.status not in CLEAN]
    if unclean:
        named = ", ".join(sorted(unclean)[:5]) + (" ..." if len(unclean) > 5 else "")
        return Split(
            shared, method, weights, own.consumption, reason=f"{len(unclean)} sub-meters not read cleanly: {named}"
        )
    sub_total = sum((readings[m.id].consumption for m in subs), Decimal(0))
    split = Split(shared, method, weights, own.consumption, sub_total)
    remainder = own.consumption - sub_total
    if remainder < 0:
        return replace(split, reason="the sub-meters measured more than the shared meter")
    if not weights or sum(weights.values()) == 0:
        return replace(split, reason=f"no unit to share it by {method}")
    hundredths = apportion(int(remainder * 100), weights)
    return replace(split, parts={key: Decimal(v).scaleb(-2) for key, v in hundredths.items()})


@dataclass
class KindUsage:
    """One meter kind's consumption per unit for a period: its own meter's clean consumption and its shares."""

    own: dict[str, Decimal] = field(default_factory=dict)
    shares: dict[str, Decimal] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)  # unit -> why it gets no metered line

    def quantity(self, unit_id: str) -> tuple[Decimal, Decimal]:
        return self.own.get(unit_id, Decimal(0)), self.shares.get(unit_id, Decimal(0))


def splits_of(
    meters: Sequence[MeterFacts], readings: Mapping[str, ReadingFacts], units: Sequence[UnitFacts]
) -> list[Split]:
    """Every shared meter's split among ``meters`` (one kind)."""
    building_of = {unit.id: unit.building for unit in units}
    by_building: dict[str, list[UnitFacts]] = {}
    for unit in units:
        by_building.setdefault(unit.building, []).append(unit)
    tree = meter_tree(meters, building_of)
    return [
        split_shared(
            meter,
            tree[meter.id],
            readings,
            units if meter.scope == "site" else by_building.get(meter.building or "", []),
        )
        for meter in meters
        if meter.id in tree
    ]


def kind_usage(
    kind: str, meters: Sequence[MeterFacts], readings: Mapping[str, ReadingFacts], units: Sequence[UnitFacts]
) -> KindUsage:
    of_kind = [m for m in meters if m.kind == kind]
    usage = KindUsage()
    for meter in of_kind:
        if meter.scope != "unit" or meter.unit_id is None:
            continue
        reading = readings.get(meter.id)
        if reading is None:
            usage.held[meter.unit_id] = f"{kind} meter {meter.serial}: no reading for the period"
        elif reading.status not in CLEAN:
            usage.held[meter.unit_id] = f"{kind} meter {meter.serial}: reading {reading.status}, waiting for a re-read"
        else:
            usage.own[meter.unit_id] = reading.consumption
    for split in splits_of(of_kind, readings, units):
        for unit_id, share in split.parts.items():
            usage.shares[unit_id] = usage.shares.get(unit_id, Decimal(0)) + share
    return usage


# --- reads -------------------------------------------------------------------------------------------


def meter_read(meter: Meter) -> MeterRead:
    return MeterRead.model_validate(
        {
            **{k: getattr(meter, k) for k in ("id", "site", "kind", "serial", "scope", "unit_id", "building")},
            "apportion_by": meter.apportion_by,
            "opening_reading": decimal_text(meter.opening_reading),
            "rollover_at": decimal_text(meter.rollover_at) if meter.rollover_at is not None else None,
            "active": meter.active,
            "updated_at": meter.updated_at,
        }
    )


def reading_source(value: str) -> ReadingSource:
    return "import" if value == "import" else "handheld" if value == "handheld" else "hand"


def reading_read(meter: Meter, period: str, reading: MeterReading | None) -> ReadingRead:
    listed = ReadingRead.model_validate(
        {
            **{k: getattr(meter, k) for k in ("kind", "serial", "scope", "unit_id", "building")},
            "meter_id": meter.id,
            "period": period,
            "status": "missing" if reading is None else reading.status,
        }
    )
    if reading is not None:
        listed.reading_id = reading.id
        listed.value = decimal_text(reading.value)
        listed.previous_value = decimal_text(reading.previous_value)
        listed.consumption = decimal_text(reading.consumption)
        listed.source = reading_source(reading.source)
        listed.read_by = reading.read_by
        listed.recorded_at = reading.recorded_at
        listed.confirmed_by = reading.confirmed_by
        listed.note = reading.note
    return listed


async def list_meters(
    session: AsyncSession,
    site: str,
    *,
    kind: MeterKind | None,
    scope: MeterScope | None,
    unit_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Meter], int]:
    query = select(Meter).where(Meter.site == site)
    if kind:
        query = query.where(Meter.kind == kind)
    if scope:
        query = query.where(Meter.scope == scope)
    if unit_id:
        query = query.where(Meter.unit_id == unit_id)
    return await fetch_page(session, query, Meter.serial, limit=limit, offset=offset)


async def list_readings(
    session: AsyncSession,
    site: str,
    period: str,
    *,
    status: ListedStatus | None,
    kind: MeterKind | None,
    limit: int,
    offset: int,
) -> tuple[list[ReadingRead], int]:
    """The site's active meters with their reading for the period (status missing without one)."""
    query = (
        select(Meter)
        .outerjoin(MeterReading, (MeterReading.meter_id == Meter.id) & (MeterReading.period == period))
        .where(Meter.site == site, Meter.active.is_(True))
    )
    if kind:
        query = query.where(Meter.kind == kind)
    if status == "missing":
        query = query.where(MeterReading.id.is_(None))
    elif status:
        query = query.where(MeterReading.status == status)
    meters, total = await fetch_page(session, query, Meter.serial, limit=limit, offset=offset)
    readings = {
        r.meter_id: r
        for r in (
            await session.scalars(
                select(MeterReading).where(
                    MeterReading.period == period, MeterReading.meter_id.in_([m.id for m in meters])
                )
            )
        ).all()
    }
    return [reading_read(meter, period, readings.get(meter.id)) for meter in meters], total


async def histories(session: AsyncSession, site: str, period: str, meters: Sequence[Meter]) -> dict[str, History]:
    """Each meter's history before ``period``: its last clean reading and consumptions (a window per meter, so the
    whole site is one statement)."""
    ranked = select(
        MeterReading.meter_id,
        MeterReading.value,
        MeterReading.consumption,
        func.row_number().over(partition_by=MeterReading.meter_id, order_by=MeterReading.period.desc()).label("rank"),
    ).where(MeterReading.site == site, MeterReading.period < period, MeterReading.status.in_(CLEAN))
    if len(meters) == 1:
        ranked = ranked.where(MeterReading.meter_id == meters[0].id)
    last = ranked.subquery()
    rows = await session.execute(
        select(last.c.meter_id, last.c.value, last.c.consumption)
        .where(last.c.rank <= AVERAGE_OF)
        .order_by(last.c.meter_id, last.c.rank)
    )
    found: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for meter_id, value, consumption in rows:
        found.setdefault(meter_id, []).append((value, consumption))
    result: dict[str, History] = {}
    for meter in meters:
        clean = found.get(meter.id)
        result[meter.id] = History(clean[0][0], tuple(c for _, c in clean)) if clean else History(meter.opening_reading)
    return result


async def period_readings(session: AsyncSession, site: str, period: str) -> dict[str, MeterReading]:
    rows = await session.scalars(select(MeterReading).where(MeterReading.site == site, MeterReading.period == period))
    return {r.meter_id: r for r in rows.all()}


async def usage_for_billing(
    session: AsyncSession, site: str, period: str, kinds: Sequence[str], units: Sequence[UnitFacts]
) -> dict[str, KindUsage]:
    """Per meter kind, each unit's clean consumption in the period and its shares of the shared meters: two
    statements for the whole site (its meters, its readings of the period), read as plain rows."""
    meters = [
        MeterRow(*row)
        for row in await session.execute(
            select(Meter.id, Meter.kind, Meter.serial, Meter.scope, Meter.unit_id, Meter.building, Meter.apportion_by)
            .where(Meter.site == site, Meter.active.is_(True), Meter.kind.in_(list(kinds)))
            .order_by(Meter.id)
        )
    ]
    readings = {
        row.meter_id: ReadingRow(*row)
        for row in await session.execute(
            select(MeterReading.meter_id, MeterReading.status, MeterReading.consumption).where(
                MeterReading.site == site, MeterReading.period == period
            )
        )
    }
    return {kind: kind_usage(kind, meters, readings, units) for kind in kinds}


def split_read(split: Split, building_units: Sequence[UnitFacts]) -> SplitRead:
    in_building = [unit.id for unit in building_units if unit.id in split.weights]
    parts = [
        SharePart(
            unit_id=unit_id,
            weight=decimal_text(split.weights[unit_id]),
            share=f"{split.parts.get(unit_id, Decimal(0)):.2f}",
        )
        for unit_id in sorted(in_building)
    ]
    shared = split.shared
    return SplitRead.model_validate(
        {
            "meter_id": split.meter.id,
            "serial": split.meter.serial,
            "kind": split.meter.kind,
            "scope": split.meter.scope,
            "apportion_by": split.method,
            "status": "held" if split.reason else "apportioned",
            "reason": split.reason,
            "consumption": f"{split.consumption:.2f}" if split.consumption is not None else None,
            "sub_meters_consumption": f"{split.sub_meters:.2f}" if split.sub_meters is not None else None,
            "shared_consumption": f"{shared:.2f}" if shared is not None else None,
            "total_weight": decimal_text(sum(split.weights.values(), Decimal(0))),
            "parts": parts,
            "parts_total": f"{sum((split.parts.get(u, Decimal(0)) for u in in_building), Decimal(0)):.2f}",
        }
    )


async def apportionment_report(
    session: AsyncSession, site: str, building: str, period: str, kind: MeterKind | None
) -> ApportionmentReport:
    """How the shared meters over a building split the period: the building's own meters and the site's (whose
    parts are listed for the building's units)."""
    units = (await session.scalars(select(Unit).where(Unit.site == site).order_by(Unit.id))).all()
    building_units = [unit for unit in units if unit.building == building]
    if not building_units:
        raise NotFound("building", f"{site}/{building}")
    query = select(Meter).where(Meter.site == site, Meter.active.is_(True))
    if kind:
        query = query.where(Meter.kind == kind)
    meters = (await session.scalars(query)).all()
    readings = await period_readings(session, site, period)
    splits: list[SplitRead] = []
    for meter_kind in sorted({m.kind for m in meters}):
        for split in splits_of([m for m in meters if m.kind == meter_kind], readings, units):
            if split.meter.scope == "site" or split.meter.building == building:
                splits.append(split_read(split, building_units))
    splits.sort(key=lambda s: (s.kind, s.scope, s.serial))
    return ApportionmentReport(site=site, building=building, period=period, splits=splits)


# --- changes -----------------------------------------------------------------------------------------


async def _check_place(session: AsyncSession, meter: Meter) -> None:
    """One active meter of a kind per unit, per building and per site: a second one would be measured twice."""
    query = select(Meter.serial).where(
        Meter.site == meter.site,
        Meter.kind == meter.kind,
        Meter.scope == meter.scope,
        Meter.active.is_(True),
        Meter.id != meter.id,
    )
    if meter.scope == "unit":
        query = query.where(Meter.unit_id == meter.unit_id)
    elif meter.scope == "building":
        query = query.where(Meter.building == meter.building)
    other = (await session.scalars(query)).first()
    if other is not None:
        where = {"unit": f"unit {meter.unit_id}", "building": f"building {meter.building}"}.get(meter.scope, "the site")
        raise Conflict(f"{where} has an active {meter.kind} meter already: {other}", field="kind", meter=other)


async def _check_serial(session: AsyncSession, site: str, serial: str) -> None:
    if (await session.scalars(select(Meter.id).where(Meter.site == site, Meter.serial == serial))).first():
        raise Conflict(f"site {site} has a meter {serial} already", field="serial")


async def create_meter(uow: UnitOfWork, site: str, body: MeterCreate) -> Meter:
    session = uow.session
    if body.scope == "unit":
        if body.unit_id is None:
            raise Invalid("a unit meter names its unit", field="unit_id")
        unit = await session.get(Unit, body.unit_id)
        if unit is None or unit.site != site:
            raise Invalid(f"unit {body.unit_id} is not a unit of {site}", field="unit_id")
    elif body.unit_id is not None:
        raise Invalid("a shared meter has no unit: its units are those of its scope", field="unit_id")
    if body.scope == "building":
        if body.building is None:
            raise Invalid("a building meter names its building", field="building")
        known = (
            await session.scalars(select(Unit.id).where(Unit.site == site, Unit.building == body.building).limit(1))
        ).first()
        if known is None:
            raise Invalid(f"building {body.building} has no units at {site}", field="building")
    elif body.building is not None:
        raise Invalid("only a building meter names a building", field="building")
    if body.scope == "unit" and body.apportion_by is not None:
        raise Invalid("a unit meter is not split", field="apportion_by")
    await _check_serial(session, site, body.serial)
    now = utcnow()
    meter = Meter(
        id=new_id(),
        site=site,
        kind=body.kind,
        serial=body.serial,
        scope=body.scope,
        unit_id=body.unit_id,
        building=body.building,
        apportion_by=None if body.scope == "unit" else body.apportion_by or "area",
        opening_reading=body.opening_reading,
        rollover_at=body.rollover_at,
        active=True,
        created_at=now,
        updated_at=now,
    )
    await _check_place(session, meter)
    session.add(meter)
    await _commit(uow, f"meter {body.serial} of {site} is being created concurrently", "serial")
    return meter


async def update_meter(uow: UnitOfWork, meter: Meter, body: MeterUpdate) -> Meter:
    if body.serial is not None and body.serial != meter.serial:
        await _check_serial(uow.session, meter.site, body.serial)
        meter.serial = body.serial
    if body.apportion_by is not None:
        if meter.scope == "unit":
            raise Invalid("a unit meter is not split", field="apportion_by")
        meter.apportion_by = body.apportion_by
    if body.rollover_at is not None:
        meter.rollover_at = body.rollover_at
    if body.active is not None:
        meter.active = body.active
        if body.active:
            await _check_place(uow.session, meter)
    meter.updated_at = utcnow()
    await _commit(uow, f"meter {meter.serial} is being changed concurrently", "serial")
    return meter


async def delete_meter(uow: UnitOfWork, meter: Meter) -> None:
    """Only a meter never read goes; one with readings is kept for its history (deactivate it instead)."""
    read = (await uow.session.scalars(select(MeterReading.id).where(MeterReading.meter_id == meter.id))).first()
    if read is not None:
        raise Conflict(f"meter {meter.serial} has readings: deactivate it instead", field="meter_id")
    await uow.session.delete(meter)
    await uow.commit()


async def _commit(uow: UnitOfWork, detail: str, field_name: str) -> None:
    try:
        await uow.commit()
    except IntegrityError:
        raise Conflict(detail, field=field_name) from None


async def _check_open(session: AsyncSession, site: str, period: str) -> None:
    """A period once issued is closed to readings: a reading left flagged through it is passed over, and the next
    period is measured from the last clean reading (so its consumption is billed once, then)."""
    first_open = await first_open_period(session, site)
    if period < first_open:
        raise Conflict(
            f"period {period} of {site} is issued already: readings are taken for {first_open} on",
            field="period",
            first_open_period=first_open,
        )


async def _later(session: AsyncSession, site: str, period: str, meter_id: str | None) -> dict[str, list[MeterReading]]:
    """Readings after ``period`` (rare: entered ahead): they are measured from this one, so they are re-checked."""
    query = select(MeterReading).where(MeterReading.site == site, MeterReading.period > period)
    if meter_id is not None:
        query = query.where(MeterReading.meter_id == meter_id)
    later: dict[str, list[MeterReading]] = {}
    for reading in (await session.scalars(query.order_by(MeterReading.period))).all():
        later.setdefault(reading.meter_id, []).append(reading)
    return later


def _put(
    meter: Meter,
    period: str,
    held: MeterReading | None,
    value: Decimal,
    source: str,
    by: str,
) -> MeterReading:
    """The period's reading of the meter, new or re-read (a re-read is checked afresh: a confirmation goes)."""
    reading = held or MeterReading(id=new_id(), site=meter.site, meter_id=meter.id, period=period)
    reading.value = value
    reading.status = "ok"
    reading.source = source
    reading.read_by = by
    reading.recorded_at = utcnow()
    reading.confirmed_by = None
    reading.confirmed_at = None
    reading.note = None
    return reading


async def record_reading(uow: UnitOfWork, principal: Principal, meter: Meter, body: ReadingCreate) -> MeterReading:
    """A reading by hand or from a handheld; a second one for the same period replaces the first (a re-read)."""
    session = uow.session
    if not meter.active:
        raise Conflict(f"meter {meter.serial} is not in use", field="meter_id")
    await _check_open(session, meter.site, body.period)
    held = (
        await session.scalars(
            select(MeterReading).where(MeterReading.meter_id == meter.id, MeterReading.period == body.period)
        )
    ).first()
    # Read before the new row is added: it is flushed only once checked (its consumption is not null).
    history = (await histories(session, meter.site, body.period, [meter]))[meter.id]
    later = (await _later(session, meter.site, body.period, meter.id)).get(meter.id, [])
    reading = _put(meter, body.period, held, body.value, body.source, principal.subject)
    restate(meter, history, [reading, *later])
    if held is None:
        session.add(reading)
    await _commit(uow, f"meter {meter.serial} is being read for {body.period} concurrently", "period")
    return reading


async def record_final_reading(session: AsyncSession, meter: Meter, value: Decimal, *, by: str) -> MeterReading:
    """A move-out's final reading: the meter's reading for the site's first open period (it replaces one taken for
    that period already: the final one is the latest), checked like any other, so the next period is measured from
    it. The caller commits."""
    period = await first_open_period(session, meter.site)
    held = (
        await session.scalars(
            select(MeterReading).where(MeterReading.meter_id == meter.id, MeterReading.period == period)
        )
    ).first()
    history = (await histories(session, meter.site, period, [meter]))[meter.id]
    later = (await _later(session, meter.site, period, meter.id)).get(meter.id, [])
    reading = _put(meter, period, held, value, "hand", by[:128])
    reading.note = "final reading at a move-out"
    restate(meter, history, [reading, *later])
    if held is None:
        session.add(reading)
    return reading


async def confirm_reading(
    uow: UnitOfWork, principal: Principal, reading: MeterReading, body: ReadingConfirm
) -> tuple[Meter, MeterReading]:
    """A manager lets a flagged reading stand (a real jump, a roll-over): it is billed from then on."""
    session = uow.session
    if reading.status not in FLAGGED:
        raise Conflict(f"reading is {reading.status}: only a flagged one is confirmed", field="status")
    await _check_open(session, reading.site, reading.period)
    meter = await session.get(Meter, reading.meter_id)
    if meter is None:
        raise NotFound("meter", reading.meter_id)
    reading.status = "confirmed"
    reading.confirmed_by = principal.subject
    reading.confirmed_at = utcnow()
    reading.note = body.note
    history = (await histories(session, meter.site, reading.period, [meter]))[meter.id]
    later = (await _later(session, meter.site, reading.period, meter.id)).get(meter.id, [])
    restate(meter, history, [reading, *later])
    await uow.commit()
    return meter, reading


# CSV import: a header row, then one row per meter read (the period is the import's).
REQUIRED_COLUMNS = ("serial", "value")
MAX_IMPORT_ROWS = 200_000


def _row_error(line: int, field_name: str, message: str) -> dict[str, Any]:
    return {"row": line, "field": field_name, "message": message}


def _parse_value(text: str) -> Decimal | str:
    """A reading's value, or why it is not one."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return f"{text!r} is not a number"
    if not value.is_finite():
        return f"{text!r} is not a number"
    if value < 0:
        return "a reading is never below 0"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return "at most 2 decimal places"
    if value >= Decimal("1e12"):
        return "too large for a meter"
    return value


async def import_readings(uow: UnitOfWork, principal: Principal, site: str, period: str, body: bytes) -> ImportResult:
    """A file of readings for the site and period, all or nothing: a file with any bad row is rejected whole with
    every bad row named (its line, the column and why)."""
    session = uow.session
    await _check_open(session, site, period)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", field="file") from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [name.strip() for name in reader.fieldnames or []]
        rows = list(reader)
    except csv.Error as unreadable:  # a field past the csv module's limit, a stray quote at the end
        raise Invalid(f"the file is not CSV: {unreadable}", field="file") from None
    errors = [_row_error(1, name, "required column is missing") for name in REQUIRED_COLUMNS if name not in header]
    errors += [_row_error(1, name, "unknown column") for name in header if name not in REQUIRED_COLUMNS]
    if errors:
        _reject(errors)
    if not rows:
        raise Invalid("the file has no rows", field="file")
    if len(rows) > MAX_IMPORT_ROWS:
        raise Invalid(f"the file has {len(rows)} rows; at most {MAX_IMPORT_ROWS} per import", field="file")
    meters = {m.serial: m for m in (await session.scalars(select(Meter).where(Meter.site == site))).all()}
    values: dict[str, tuple[Meter, Decimal]] = {}
    seen: dict[str, int] = {}
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if isinstance(v, str)}
        if None in raw:
            errors.append(_row_error(line, "(row)", "more values than columns"))
        serial = row.get("serial", "")
        meter = meters.get(serial)
        if not serial:
            errors.append(_row_error(line, "serial", "required"))
        elif serial in seen:
            errors.append(_row_error(line, "serial", f"meter {serial} is also on line {seen[serial]}"))
        elif meter is None:
            errors.append(_row_error(line, "serial", f"no meter {serial} at site {site}"))
        elif not meter.active:
            errors.append(_row_error(line, "serial", f"meter {serial} is not in use"))
        seen.setdefault(serial, line)
        value = _parse_value(row.get("value", "")) if row.get("value") else "required"
        if isinstance(value, str):
            errors.append(_row_error(line, "value", value))
        elif meter is not None and meter.active and serial not in values:
            values[serial] = (meter, value)
    if errors:
        _reject(errors)
    held = await period_readings(session, site, period)
    history = await histories(session, site, period, [meter for meter, _ in values.values()])
    later = await _later(session, site, period, None)
    flagged = 0
    for meter, value in values.values():
        reading = _put(meter, period, held.get(meter.id), value, "import", principal.subject)
        restate(meter, history[meter.id], [reading, *later.get(meter.id, [])])
        if meter.id not in held:
            session.add(reading)
        flagged += reading.status in FLAGGED
    replaced = sum(meter.id in held for meter, _ in values.values())
    await _commit(uow, f"readings of {site} for {period} are being entered concurrently", "period")
    return ImportResult(site=site, period=period, readings=len(values), replaced=replaced, flagged=flagged)


def _reject(errors: list[dict[str, Any]]) -> None:
    errors.sort(key=lambda e: (e["row"], e["field"]))
    bad_rows = len({e["row"] for e in errors})
    raise Invalid(
        f"{len(errors)} errors in {bad_rows} rows; nothing was imported",
        field=errors[0]["field"],
        errors=errors,
    )
