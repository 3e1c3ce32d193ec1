"""The owner archive (业主档案): sites, buildings, units and the parties living or working in them."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base


class Site(Base):
    __tablename__ = "sites"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # residential | office


class Building(Base):
    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    floors: Mapped[int] = mapped_column(Integer)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    floor: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    use: Mapped[str] = mapped_column(String(32))
    occupied: Mapped[bool] = mapped_column(Boolean)


class Party(Base):
    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # owner | tenant | family
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    extra_care: Mapped[str] = mapped_column(String(64), default="")  # comma-separated: elderly,disabled


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    kind: str


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    building_id: str
    code: str
    floor: int
    area_m2: Decimal
    use: str
    occupied: bool


class PartyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str | None
    role: str
    name: str
    phone: str | None
    email: str | None
    language: str
