"""Keep the slim copy of units and parties (pm_platform.directory: an event not newer than the copy held is
ignored), and find who pays for a unit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.directory.models import Party, PartyFacts, PartyRow, Site, Unit, UnitFacts, UnitRow
from pm_platform import directory
from pm_platform.envelope import utcnow
from pm_platform.sitetime import DEFAULT_TIMEZONE, local_date


async def upsert_site(
    session: AsyncSession, site: str, timezone: str, name: str | None = None, service_center: str | None = None
) -> None:
    """Keep a site's time zone, name and service center (intake.site.upserted.v1; the demo seed)."""
    row = await session.get(Site, site)
    if row is None:
        row = Site(site=site, timezone=timezone)
        session.add(row)
    row.timezone = timezone
    row.name = name or row.name
    row.service_center = service_center or row.service_center
    await session.flush()


@dataclass(frozen=True)
class Issuer:
    """Who a printed bill or letter comes from: the site's name and its service center."""

    name: str
    service_center: str | None


async def site_issuer(session: AsyncSession, site: str) -> Issuer:
    row = await session.get(Site, site)
    if row is None or not row.name:
        return Issuer(site, row.service_center if row else None)
    return Issuer(row.name, row.service_center)


async def site_timezone(session: AsyncSession, site: str) -> str:
    """The site's IANA time zone; the group's default until intake has told billing of the site."""
    row = await session.get(Site, site)
    return row.timezone if row is not None else DEFAULT_TIMEZONE


async def site_today(session: AsyncSession, site: str) -> date:
    """Today's date at the site: what "overdue", "this month" and a due date's day are counted in."""
    return local_date(utcnow(), await site_timezone(session, site))


async def upsert_unit(session: AsyncSession, data: directory.Payload) -> bool:
    """Apply an intake.unit.upserted.v1 payload; False when it is not newer than the copy held."""
    return await directory.upsert_unit(session, Unit, data) is not None


async def upsert_party(session: AsyncSession, data: directory.Payload) -> bool:
    """Apply an intake.party.upserted.v1 payload; False when it is not newer than the copy held."""
    return await directory.upsert_party(session, Party, data) is not None


P = TypeVar("P", bound=PartyFacts)


def choose_payer(unit: UnitFacts | None, parties: Iterable[P]) -> P | None:
    """The unit's paying party: the one intake names, else an active party marked as paying, else the active
    owner. A party that moved out no longer pays."""
    active = [p for p in parties if p.active]
    if unit is not None and unit.paying_party_id:
        named = [p for p in active if p.id == unit.paying_party_id]
        if named:
            return named[0]
    for candidate in (p for p in active if p.pays):
        return candidate
    for candidate in (p for p in active if p.role == "owner"):
        return candidate
    return None


async def payers(session: AsyncSession, units: Mapping[str, UnitFacts], unit_ids: Sequence[str]) -> dict[str, Party]:
    """The paying party of each unit id (absent when none is known); ``units`` are the slim units at hand."""
    by_unit = await directory.parties_of_units(session, Party, unit_ids)
    found: dict[str, Party] = {}
    for unit_id in unit_ids:
        payer = choose_payer(units.get(unit_id), by_unit.get(unit_id, []))
        if payer is not None:
            found[unit_id] = payer
    return found


async def site_units(session: AsyncSession, site: str) -> list[UnitRow]:
    """Every unit of the site, in id order, as plain rows (a billing run's read)."""
    rows = await session.execute(
        select(Unit.id, Unit.building, Unit.area_m2, Unit.use, Unit.occupied, Unit.paying_party_id)
        .where(Unit.site == site)
        .order_by(Unit.id)
    )
    return [UnitRow(*row) for row in rows.all()]


async def site_payer_ids(session: AsyncSession, site: str, units: Iterable[UnitFacts]) -> dict[str, str]:
    """``payers`` for units of one site, by id: their parties read in one statement, as plain rows (a billing run)."""
    rows = await session.execute(
        select(Party.unit_id, Party.id, Party.role, Party.active, Party.pays)
        .join(Unit, Unit.id == Party.unit_id)
        .where(Unit.site == site)
        .order_by(Party.id)
    )
    by_unit: dict[str, list[PartyRow]] = {}
    for unit_id, *party in rows.all():
        by_unit.setdefault(unit_id, []).append(PartyRow(*party))
    found: dict[str, str] = {}
    for unit in units:
        payer = choose_payer(unit, by_unit.get(unit.id, ()))
        if payer is not None:
            found[unit.id] = payer.id
    return found
