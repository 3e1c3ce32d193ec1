"""Slim copies of intake's units and parties (who to ask, where they live), and the contact log that
keeps each party within the survey-fatigue budget."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.db import BigId, UtcDateTime
from pm_platform.envelope import UtcDatetime
from survey.database import Base


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (Index("ix_units_site_building", "site", "building"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    building: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64))
    floor: Mapped[int | None] = mapped_column(Integer)
    occupied: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Party(Base):
    __tablename__ = "parties"
    __table_args__ = (Index("ix_parties_site_active", "site", "active"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Contact(Base):
    """One time survey asked a party something (a follow-up or a survey invitation)."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_party_at", "party_id", "contacted_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    party_id: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # followup | survey
    ref_id: Mapped[str] = mapped_column(String(64))
    contacted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    ref_id: str
    contacted_at: UtcDatetime


class BudgetRead(BaseModel):
    party_id: str
    site: str
    window_days: int
    max_contacts: int
    used: int
    remaining: int
    contacts: list[ContactRead]
