"""Slim copies of intake's units and parties (who to ask, where they live; pm_platform.directory), and the
contact log that keeps each party within the survey-fatigue budget."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.db import BigId, UtcDateTime
from pm_platform.directory import PartyCopy, UnitCopy
from pm_platform.envelope import UtcDatetime
from survey.database import Base


class Unit(UnitCopy, Base):
    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Party(PartyCopy, Base):
    __tablename__ = "parties"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)


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
