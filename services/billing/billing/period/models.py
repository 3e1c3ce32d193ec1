"""Billing settings per site (the published fee rate, due days, collection targets) and the billing periods a
clerk issued: property-management fee = area m² x the site's rate per m² per month."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Date, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import MONTH_PATTERN, UtcDatetime

PERIOD_PATTERN = MONTH_PATTERN
DEFAULT_REPAIR_DUE_DAYS = 15
# A fee issued late is due no sooner than this many days after the issue (the configured due day may have passed).
DEFAULT_FEE_GRACE_DAYS = 15


class SiteBilling(Base):
    __tablename__ = "site_billing"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    # Yuan per m² per month, exact (2.80 = 2 yuan 80 fen).
    fee_rate_per_m2: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    fee_due_day: Mapped[int] = mapped_column(Integer)  # day of the period's month the fee falls due
    # A fee is due no sooner than this many days after it is issued (the later of the two dates).
    fee_grace_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_FEE_GRACE_DAYS)
    repair_due_days: Mapped[int] = mapped_column(Integer)  # days after a repair charge is recorded
    # Collection-rate targets in percent: the current month, last month, the month before (and older).
    target_current_pct: Mapped[int] = mapped_column(Integer)
    target_last_pct: Mapped[int] = mapped_column(Integer)
    target_before_pct: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BillingPeriod(Base):
    __tablename__ = "billing_periods"
    __table_args__ = (UniqueConstraint("site", "period", name="uq_billing_periods_site_period"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    fee_rate_per_m2: Mapped[Decimal] = mapped_column(Numeric(10, 4))  # the rate the period was issued at
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date] = mapped_column(Date)
    units_charged: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    issued_by: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


Percent = Annotated[int, Field(ge=0, le=100)]


class SiteBillingUpdate(BaseModel):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    fee_rate_per_m2: Annotated[Decimal, Field(gt=0, le=10000, max_digits=10, decimal_places=4)]
    fee_due_day: Annotated[int, Field(ge=1, le=31)] = 15
    fee_grace_days: Annotated[int, Field(ge=0, le=365)] = DEFAULT_FEE_GRACE_DAYS
    repair_due_days: Annotated[int, Field(ge=0, le=365)] = DEFAULT_REPAIR_DUE_DAYS
    target_current_pct: Percent = 80
    target_last_pct: Percent = 90
    target_before_pct: Percent = 100


class SiteBillingRead(BaseModel):
    site: str
    currency: str
    fee_rate_per_m2: str
    fee_due_day: int
    fee_grace_days: int
    repair_due_days: int
    target_current_pct: int
    target_last_pct: int
    target_before_pct: int
    updated_at: UtcDatetime


class PeriodIssue(BaseModel):
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    period: Annotated[str, Field(pattern=PERIOD_PATTERN, description="YYYY-MM")]


class SkippedUnit(BaseModel):
    unit_id: str
    reason: str


class PeriodRead(BaseModel):
    id: str
    site: str
    period: str
    fee_rate_per_m2: str
    currency: str
    due_date: date
    units_charged: int
    total_cents: int
    issued_by: str
    issued_at: UtcDatetime


class PeriodIssued(PeriodRead):
    created: bool  # False: the period had been issued before (only units without its fee were charged now)
    charged_now: int
    skipped: list[SkippedUnit]
