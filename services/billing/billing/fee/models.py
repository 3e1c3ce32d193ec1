"""Fee items per site (物业管理费, 垃圾清运费, 车位管理费 ...), each with a formula and a billing cycle, and their
rates, effective from a billing period: a rate change applies from its period on, never to a period already
issued.

Money is integer fen; rates are exact decimals in yuan. One rounding rule: a charge is computed exactly
(quantity x rate x months of the cycle; a metered one through its tiers) and rounded once, half up, to whole fen.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import JSON, Boolean, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.meter.models import MeterKind
from pm_platform.db import UtcDateTime
from pm_platform.envelope import MONTH_PATTERN, UtcDatetime

# area: rate per m² and month; per_unit: an amount per unit and month; per_household: per occupied unit and month;
# metered: per m³ or kWh the unit's meter measured in the period plus its share of the shared meters (公摊).
Formula = Literal["area", "per_unit", "per_household", "metered"]
FORMULAS: tuple[Formula, ...] = ("area", "per_unit", "per_household", "metered")
# Months one charge covers: billed in the period that opens the calendar quarter or year.
CycleMonths = Literal[1, 3, 12]
# The uses intake records for a unit (intake.unit.upserted.v1).
UnitUse = Literal["residential", "office", "retail", "parking", "storage", "other"]
MANAGEMENT_FEE_CODE = "management_fee"
# The management fee a site's billing settings publish: in force from the first period ever issued.
FIRST_PERIOD = "2000-01"


class FeeItem(Base):
    __tablename__ = "fee_items"
    __table_args__ = (UniqueConstraint("site", "code", name="uq_fee_items_site_code"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    formula: Mapped[str] = mapped_column(String(16))
    meter_kind: Mapped[str | None] = mapped_column(String(16))  # a metered item's meters
    cycle_months: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FeeRate(Base):
    """One version of a fee item's rates, in force from ``effective_from`` (a period) until the next version's."""

    __tablename__ = "fee_rates"
    __table_args__ = (UniqueConstraint("fee_item_id", "effective_from", name="uq_fee_rates_item_from"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fee_item_id: Mapped[str] = mapped_column(String(64), index=True)
    effective_from: Mapped[str] = mapped_column(String(7))
    rate: Mapped[Decimal] = mapped_column(Numeric(12, 4))  # yuan, for any use without a rate of its own
    by_use: Mapped[dict[str, str]] = mapped_column(JSON)  # use -> yuan, exact decimal strings
    vacant_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))  # a unit nobody occupies, when set
    # A metered item's tariff: [{"up_to": quantity or None, "rate": yuan}], ascending; none: ``rate`` throughout.
    tiers: Mapped[list[dict[str, str | None]] | None] = mapped_column(JSON)
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime())


Rate = Annotated[Decimal, Field(ge=0, le=100000, max_digits=12, decimal_places=4)]
Period = Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM: the first billing period it applies to")]
Quantity = Annotated[Decimal, Field(gt=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)]


class Tier(BaseModel):
    """One step of a tiered tariff (阶梯价): the rate for the month's consumption up to ``up_to``, beyond the tier
    before."""

    up_to: Quantity | None = Field(None, description="m³ or kWh a month; null: everything above the tier before")
    rate: Rate


class FeeRates(BaseModel):
    rate: Rate = Field(description="Yuan per m² and month (area), per unit or household and month, or per m³ or kWh")
    by_use: dict[UnitUse, Rate] = Field(default_factory=dict, description="A rate of its own for a unit use")
    vacant_rate: Rate | None = Field(None, description="For a unit nobody occupies (空置房), in place of the others")
    tiers: list[Tier] = Field(
        default_factory=list, max_length=10, description="A metered item's tiered tariff, in place of rate"
    )

    @field_validator("tiers")
    @classmethod
    def tiers_ascend_to_the_top(cls, tiers: list[Tier]) -> list[Tier]:
        bounds = [tier.up_to for tier in tiers]
        if tiers and bounds[-1] is not None:
            raise ValueError("the last tier has no up_to: it prices everything above the tier before")
        limits = [b for b in bounds[:-1] if b is not None]
        if len(limits) != len(bounds[:-1]) or limits != sorted(set(limits)):
            raise ValueError("each tier but the last has an up_to above the one before")
        return tiers


class FeeRateCreate(FeeRates):
    effective_from: Period


class FeeItemCreate(FeeRates):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    formula: Formula
    meter_kind: MeterKind | None = Field(None, description="A metered item's meters")
    cycle_months: CycleMonths = 1
    effective_from: Period | None = Field(None, description="Default: the site's first period not yet issued")


class FeeItemUpdate(BaseModel):
    name: Annotated[str | None, Field(min_length=1, max_length=80)] = None
    active: bool | None = None


class FeeRateRead(BaseModel):
    effective_from: str
    rate: str
    by_use: dict[str, str]
    vacant_rate: str | None
    tiers: list[dict[str, str | None]]
    set_by: str
    set_at: UtcDatetime


class FeeItemRead(BaseModel):
    id: str
    site: str
    code: str
    name: str
    formula: Formula
    meter_kind: MeterKind | None
    cycle_months: int
    active: bool
    rates: list[FeeRateRead]  # newest first
    updated_at: UtcDatetime
