"""The slim copy of intake's owner archive (units and parties) that other services keep from
``intake.unit.upserted.v1`` and ``intake.party.upserted.v1`` (event-carried state).

Each service keeps its own tables in its own database: it declares ``class Unit(UnitCopy, Base)`` and
``class Party(PartyCopy, Base)`` with its own primary key column (the one column the services name
differently) and keeps what is its own (preferences, budgets, account links) in tables of its own.

One staleness rule for every copy: the events carry ``updated_at`` (the source row's last change, no
version number), and an event replaces the copy only when it is strictly newer. An older event arriving
late (a redelivery, a consumer catching up) and an equal one (the same change again, or two changes intake
stamped alike) never overwrite what is held, so every consumer converges on the same copy whatever order
the events arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Boolean, Index, Integer, Numeric, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, class_mapper, declared_attr, mapped_column

from pm_platform.db import UtcDateTime
from pm_platform.envelope import as_utc, parse_utc


class _Copy:
    __tablename__: str
    # The source's updated_at: the ordering key of the staleness rule.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnitCopy(_Copy):
    """The columns of a unit as ``intake.unit.upserted.v1`` carries them (the key is the service's own)."""

    site: Mapped[str] = mapped_column(String(64))
    building: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32))
    floor: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    use: Mapped[str] = mapped_column(String(16))
    occupied: Mapped[bool] = mapped_column(Boolean, default=True)
    paying_party_id: Mapped[str | None] = mapped_column(String(64))

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        # A fresh Index per table: one Index object cannot belong to two services' metadata.
        return (Index(f"ix_{cls.__tablename__}_site_building", "site", "building"),)


class PartyCopy(_Copy):
    """The columns of a party as ``intake.party.upserted.v1`` carries them (the key is the service's own)."""

    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    extra_care: Mapped[str] = mapped_column(String(64), default="")  # comma-separated: elderly, disabled
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pays: Mapped[bool | None] = mapped_column(Boolean)

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index(f"ix_{cls.__tablename__}_site_active", "site", "active"),)


# The most values one IN list carries.
IN_SLICE = 5000

U = TypeVar("U", bound=UnitCopy)
P = TypeVar("P", bound=PartyCopy)
C = TypeVar("C", bound=_Copy)


def supersedes(incoming: datetime, held: datetime | None) -> bool:
    """The staleness rule: an event stamped ``incoming`` replaces a copy stamped ``held`` only when it is
    strictly newer (nothing held: always). Older or equal never overwrites."""
    return held is None or as_utc(incoming) > as_utc(held)


# A payload as the envelope carries it (JSON values) or as a typed event model (datetimes, Decimals, enums).
Payload = Mapping[str, Any] | BaseModel


def _fields(data: Payload) -> Mapping[str, Any]:
    return data.model_dump() if isinstance(data, BaseModel) else data


def _instant(value: str | datetime) -> datetime:
    return as_utc(value) if isinstance(value, datetime) else parse_utc(value)


def unit_values(payload: Payload) -> dict[str, Any]:
    """The column values of an ``intake.unit.upserted.v1`` payload (area exact, never a float)."""
    data = _fields(payload)
    return {
        "site": data["site"],
        "building": str(data["building"]),
        "number": str(data["number"]),
        "floor": int(data["floor"]),
        "area_m2": Decimal(str(data["area_m2"])),
        "use": str(data["use"]),
        "occupied": bool(data["occupied"]),
        "paying_party_id": data.get("paying_party_id"),
        "updated_at": _instant(data["updated_at"]),
    }


def party_values(payload: Payload) -> dict[str, Any]:
    """The column values of an ``intake.party.upserted.v1`` payload."""
    data = _fields(payload)
    return {
        "site": data["site"],
        "unit_id": data["unit_id"],
        "role": str(data["role"]),
        "name": data["name"],
        "phone": data.get("phone"),
        "email": data.get("email"),
        "language": data["language"],
        "extra_care": ",".join(str(need) for need in data.get("extra_care") or []),
        "active": bool(data["active"]),
        "pays": data.get("pays"),
        "updated_at": _instant(data["updated_at"]),
    }


async def upsert_unit(session: AsyncSession, model: type[U], data: Payload) -> U | None:
    """Apply an ``intake.unit.upserted.v1`` payload to ``model``; None when it is not newer than the copy."""
    return await _upsert(session, model, _fields(data)["unit_id"], unit_values(data))


async def upsert_party(session: AsyncSession, model: type[P], data: Payload) -> P | None:
    """Apply an ``intake.party.upserted.v1`` payload to ``model``; None when it is not newer than the copy."""
    return await _upsert(session, model, _fields(data)["party_id"], party_values(data))


async def _upsert(session: AsyncSession, model: type[C], key: str, values: dict[str, Any]) -> C | None:
    # Locked where the database can (PostgreSQL): two deliveries of one unit's events apply one after the
    # other. Two first events racing to insert the same key fail one transaction; its redelivery then
    # meets the row and the rule.
    copy = await session.get(model, key, with_for_update=True)
    if copy is None:
        copy = model(**{_key_name(model): key})
        session.add(copy)
    elif not supersedes(values["updated_at"], copy.updated_at):
        return None
    for name, value in values.items():
        setattr(copy, name, value)
    await session.flush()
    return copy


def _key_name(model: type[Any]) -> str:
    mapper = class_mapper(model)
    return mapper.get_property_by_column(mapper.primary_key[0]).key


async def parties_of_units(
    session: AsyncSession, model: type[P], unit_ids: Iterable[str], *, active_only: bool = False
) -> dict[str, list[P]]:
    """The parties of each unit (units without any are absent), in key order; only the active ones
    (not moved out) when ``active_only``."""
    wanted = list(unit_ids)
    key = class_mapper(model).primary_key[0]
    by_unit: dict[str, list[P]] = {}
    # In slices: a site's 100,000 units are more bound parameters than PostgreSQL (32,767) takes in one statement.
    for start in range(0, len(wanted), IN_SLICE):
        query = select(model).where(model.unit_id.in_(wanted[start : start + IN_SLICE]))
        if active_only:
            query = query.where(model.active.is_(True))
        for party in (await session.scalars(query.order_by(key))).all():
            by_unit.setdefault(party.unit_id, []).append(party)
    return by_unit


def demo_payloads(
    site: str, unit: Mapping[str, Any], seeded_at: datetime
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A unit of ``deploy/demo.yaml`` (and its owner, if any) as the payloads intake would publish, stamped
    ``seeded_at`` (older than anything intake publishes, so intake's own events win). The owner pays."""
    unit_id = f"{site}-{unit['code']}"
    owner = unit.get("owner")
    owner_id = f"{unit_id}-owner" if owner else None
    stamp = seeded_at.isoformat()
    unit_data = {
        "unit_id": unit_id,
        "site": site,
        "building": unit["building"],
        "number": unit["code"],
        "floor": unit["floor"],
        "area_m2": unit["area_m2"],
        "use": unit["use"],
        "occupied": unit["occupied"],
        "paying_party_id": owner_id,
        "updated_at": stamp,
    }
    if not owner:
        return unit_data, None
    party_data = {
        "party_id": owner_id,
        "site": site,
        "unit_id": unit_id,
        "role": "owner",
        "name": owner["name"],
        "phone": owner.get("phone"),
        "email": owner.get("email"),
        "language": owner.get("language", "zh-CN"),
        "extra_care": list(owner.get("extra_care", [])),
        "active": True,
        "pays": True,
        "updated_at": stamp,
    }
    return unit_data, party_data
