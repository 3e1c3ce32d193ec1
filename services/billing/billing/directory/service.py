"""Keep the slim copy of units and parties: upsert on each event, ignore one older than what is held
(events of one unit may arrive out of order across redeliveries), and find who pays for a unit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.directory.models import Party, Unit
from pm_events.intake import PartyUpserted, UnitUpserted
from pm_platform.envelope import as_utc, parse_utc


async def upsert_unit(session: AsyncSession, data: UnitUpserted) -> bool:
    """Apply an intake.unit.upserted.v1 payload; False when it is not newer than the copy held."""
    updated_at = parse_utc(data.updated_at)
    unit = await session.get(Unit, data.unit_id)
    if unit is not None and as_utc(unit.updated_at) >= updated_at:
        return False
    if unit is None:
        unit = Unit(id=data.unit_id)
        session.add(unit)
    unit.site = data.site
    unit.building = data.building
    unit.number = data.number
    unit.floor = int(data.floor)
    unit.area_m2 = Decimal(data.area_m2)
    unit.use = data.use
    unit.occupied = bool(data.occupied)
    unit.paying_party_id = data.paying_party_id
    unit.updated_at = updated_at
    return True


async def upsert_party(session: AsyncSession, data: PartyUpserted) -> bool:
    """Apply an intake.party.upserted.v1 payload; False when it is not newer than the copy held."""
    updated_at = parse_utc(data.updated_at)
    party = await session.get(Party, data.party_id)
    if party is not None and as_utc(party.updated_at) >= updated_at:
        return False
    if party is None:
        party = Party(id=data.party_id)
        session.add(party)
    party.site = data.site
    party.unit_id = data.unit_id
    party.role = data.role
    party.name = data.name
    party.phone = data.phone
    party.email = data.email
    party.active = bool(data.active)
    party.pays = data.pays
    party.updated_at = updated_at
    return True


def choose_payer(unit: Unit | None, parties: Iterable[Party]) -> Party | None:
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


async def payers(session: AsyncSession, units: Mapping[str, Unit], unit_ids: Sequence[str]) -> dict[str, Party]:
    """The paying party of each unit id (absent when none is known); ``units`` are the slim units at hand."""
    if not unit_ids:
        return {}
    rows = (await session.scalars(select(Party).where(Party.unit_id.in_(list(unit_ids))))).all()
    by_unit: dict[str, list[Party]] = {}
    for party in rows:
        by_unit.setdefault(party.unit_id, []).append(party)
    found: dict[str, Party] = {}
    for unit_id in unit_ids:
        payer = choose_payer(units.get(unit_id), by_unit.get(unit_id, []))
        if payer is not None:
            found[unit_id] = payer
    return found
