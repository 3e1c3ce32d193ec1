"""Settlements: intake asks before a party's keys come back (move-out) or the ownership passes (transfer); billing
answers from the unit's account (cleared, or the amount owed) and answers again once a payment clears it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime


class Settlement(Base):
    __tablename__ = "settlements"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # intake's move-out or transfer id
    procedure: Mapped[str] = mapped_column(String(16))  # move_out | transfer
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    party_id: Mapped[str] = mapped_column(String(64))
    move_out_date: Mapped[date] = mapped_column(Date)
    final_readings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cleared: Mapped[bool] = mapped_column(Boolean, index=True)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    owed_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A move-out's final bill, posted once before the first answer: the prorated fees, credits and final meter
    # readings (billing/occupancy), and what it could not charge (a flagged reading), each with its reason.
    finalized_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    final_charges_cents: Mapped[int | None] = mapped_column(BigInteger)
    final_notes: Mapped[list[str] | None] = mapped_column(JSON)


class SettlementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    procedure: str
    site: str
    unit_id: str
    party_id: str
    move_out_date: date
    final_readings: list[dict[str, Any]]
    requested_at: datetime
    cleared: bool
    balance_cents: int
    owed_cents: int
    currency: str
    answered_at: datetime
    cleared_at: datetime | None
    finalized_at: datetime | None = None
    final_charges_cents: int | None = None
    final_notes: list[str] | None = None
