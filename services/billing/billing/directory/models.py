"""Billing's slim copy of the owner archive (intake owns it): the units it bills by area and the parties who
pay. Kept from intake.unit.upserted.v1 / intake.party.upserted.v1 and seeded from the demo."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Boolean, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime

# Roles that chase payment and so see a payer's full phone number; everyone else sees it masked.
PHONE_ROLES = frozenset({"billing_clerk", "supervisor", "manager"})


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    building: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32))
    floor: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    use: Mapped[str] = mapped_column(String(16))
    occupied: Mapped[bool] = mapped_column(Boolean)
    paying_party_id: Mapped[str | None] = mapped_column(String(64))
    # The source's updated_at: an event older than this is stale and ignored.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Party(Base):
    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    pays: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PayerRead(BaseModel):
    party_id: str
    name: str
    phone: str | None
    email: str | None


class UnitRead(BaseModel):
    unit_id: str
    building: str
    number: str
    area_m2: str
    use: str
    occupied: bool


def mask_phone(phone: str | None) -> str | None:
    """13800000001 -> 138****0001: enough to recognise, not to call."""
    if not phone:
        return phone
    if len(phone) <= 4:
        return "*" * len(phone)
    keep = min(3, len(phone) - 4)
    return phone[:keep] + "*" * (len(phone) - keep - 4) + phone[-4:]


def payer_read(party: Party, *, full_phone: bool) -> PayerRead:
    return PayerRead(
        party_id=party.id,
        name=party.name,
        phone=party.phone if full_phone else mask_phone(party.phone),
        email=party.email if full_phone else None,
    )


def unit_read(unit: Unit) -> UnitRead:
    return UnitRead(
        unit_id=unit.id,
        building=unit.building,
        number=unit.number,
        area_m2=str(unit.area_m2),
        use=unit.use,
        occupied=unit.occupied,
    )
