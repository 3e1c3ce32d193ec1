"""Late fees (违约金), only as the site's property-service contract says: a daily rate on what is unpaid, or a fixed
amount, after some grace days, capped at a share of the charge. A billing run assesses them onto the next bill;
waiving one takes a clerk's request with the reason and a manager's approval, and both stay on record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.approval import ApprovalColumns, ApprovalStatus
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime

LATE_FEE = "late_fee"  # the kind of a late-fee charge (its late_fee_of names the charge it is on)
LateFeeMode = Literal["none", "daily", "fixed"]


class LateFeePolicy(Base):
    __tablename__ = "late_fee_policies"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    grace_days: Mapped[int] = mapped_column(Integer)
    daily_rate: Mapped[Decimal] = mapped_column(Numeric(8, 6))  # a fraction per day: 0.0005 is 万分之五
    fixed_cents: Mapped[int] = mapped_column(BigInteger)
    cap_pct: Mapped[int] = mapped_column(Integer)  # of the charge's amount, all its late fees together
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LateFeePolicyUpdate(BaseModel):
    mode: LateFeeMode = Field(description="none: the contract has no late fee; daily: a rate per day; fixed: once")
    grace_days: Annotated[int, Field(ge=0, le=365, description="Days past the due date with no late fee")] = 0
    daily_rate: Annotated[
        Decimal, Field(ge=0, le=Decimal("0.01"), max_digits=8, decimal_places=6, description="0.0005 = 0.05 %/day")
    ] = Decimal(0)
    fixed_cents: Annotated[int, Field(ge=0, le=10**9)] = 0
    cap_pct: Annotated[int, Field(ge=0, le=100, description="Cap: this share of the charge, all its late fees")] = 100


class LateFeePolicyRead(BaseModel):
    site: str
    mode: LateFeeMode
    grace_days: int
    daily_rate: str
    fixed_cents: int
    cap_pct: int
    updated_by: str | None
    updated_at: UtcDatetime | None


# A waiver is asked for by a clerk and decided by a manager (pm_platform.approval).
WaiverStatus = ApprovalStatus


class LateFeeWaiver(ApprovalColumns, Base):
    __tablename__ = "late_fee_waivers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    charge_id: Mapped[str] = mapped_column(String(64), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class WaiverCreate(BaseModel):
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class WaiverRead(BaseModel):
    id: str
    site: str
    unit_id: str
    charge_id: str
    amount_cents: int
    reason: str
    status: WaiverStatus
    requested_by: str
    requested_at: UtcDatetime
    decided_by: str | None
    decided_at: UtcDatetime | None
    decision_note: str | None
