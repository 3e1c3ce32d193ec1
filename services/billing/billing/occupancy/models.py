"""Occupancy (入住): who lives in each unit from when to when, kept from intake's move-in and move-out events; the
charges a move-out's settlement posted (the final bill up to the move-out day); and the account's closure once a
move-out is settled.

A stay runs from its move-in day up to the day before its move-out day: the move-out day is not an occupied day
(it is the next occupant's first), so consecutive stays never count a day twice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import BigInteger, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import OptionalUtcDatetime, UtcDatetime

# What a move-out's settlement posted: a prorated fee for a period not billed yet, a credit of the unoccupied days of
# a period billed in full, or the consumption of a final meter reading.
FinalChargeKind = Literal["prorated", "credit", "metered"]


class Occupancy(Base):
    """One party's stay in a unit. Each side keeps the time of the event that set it: an older event never undoes a
    newer one, and a move-out older than the move-in belongs to an earlier stay."""

    __tablename__ = "occupancies"
    __table_args__ = (
        UniqueConstraint("site", "unit_id", "party_id", name="uq_occupancies_site_unit_party"),
        Index("ix_occupancies_site", "site"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[str] = mapped_column(String(64))
    move_in_id: Mapped[str | None] = mapped_column(String(64))
    move_in_date: Mapped[date | None] = mapped_column(Date)
    moved_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    move_out_id: Mapped[str | None] = mapped_column(String(64))
    move_out_date: Mapped[date | None] = mapped_column(Date)
    moved_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FinalCharge(Base):
    """A charge a move-out's settlement posted on the unit's account. The billing run of its period leaves the
    unit's fee item alone (it is settled), and bills the rest."""

    __tablename__ = "final_charges"
    __table_args__ = (Index("ix_final_charges_site_period", "site", "period"),)
    charge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    settlement_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    fee_item: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7))  # the period (a cycle's first month) the charge settles
    kind: Mapped[str] = mapped_column(String(16))
    days: Mapped[int | None] = mapped_column(Integer)  # occupied days (prorated, credit)
    span_days: Mapped[int | None] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class AccountClosure(Base):
    """A unit's account closed by a settled move-out; a later move-in opens it again."""

    __tablename__ = "account_closures"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    settlement_id: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[str] = mapped_column(String(64))
    move_out_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reopened_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reopened_by_move_in: Mapped[str | None] = mapped_column(String(64))


class StayRead(BaseModel):
    party_id: str
    move_in_id: str | None
    move_in_date: date | None
    move_out_id: str | None
    move_out_date: date | None
    updated_at: UtcDatetime


class FinalChargeRead(BaseModel):
    charge_id: str
    settlement_id: str
    fee_item: str
    period: str
    kind: FinalChargeKind
    days: int | None
    span_days: int | None
    amount_cents: int


class OccupancyRead(BaseModel):
    """A unit's stays (newest move-in first), the charges its move-out settlements posted, and whether its account
    is closed."""

    site: str
    unit_id: str
    occupied: bool  # a stay without a move-out
    account_status: Literal["open", "closed"]
    closed_at: OptionalUtcDatetime
    closed_by_settlement: str | None
    stays: list[StayRead]
    final_charges: list[FinalChargeRead]
