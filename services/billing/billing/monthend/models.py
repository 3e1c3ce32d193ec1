"""Month-end close: what a site billed, collected and has outstanding per fee item in one of its months (its own
calendar), the cash taken, and the close that freezes it: a closed month's figures never change; a later correction
is an adjustment in an open month."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import MONTH_PATTERN, UtcDatetime


class MonthClose(Base):
    __tablename__ = "month_closes"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_by: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    report: Mapped[dict[str, Any]] = mapped_column(JSON)  # the MonthReport as closed


class ItemTotals(BaseModel):
    fee_item: str  # the fee item's code, or the kind of a one-off charge (repair, late_fee, decoration_fee ...)
    billed_cents: int  # charged in the month (a late fee waived in the month is not)
    collected_cents: int  # of the payments, what went to this item's charges in the month (net of refunds)
    outstanding_cents: int  # unpaid at the month's end, whenever billed


class MethodTakings(BaseModel):
    method: str
    payments: int
    amount_cents: int


class MonthReport(BaseModel):
    site: str
    month: str
    currency: str
    items: list[ItemTotals]
    billed_cents: int
    collected_cents: int
    outstanding_cents: int
    received_cents: int  # payments received in the month (not voided)
    refunded_cents: int  # refunds approved in the month
    prepaid_cents: int  # paid in advance, waiting for later charges, at the month's end
    prepaid_before_cents: int  # the same at the end of the month before
    waived_cents: int  # late fees waived in the month
    # Of received, what is not on a unit's account (temporary parking, outside renters' rent: billing/income).
    income_cents: int = 0
    takings: list[MethodTakings]  # received per method: the cash column is what the clerks hand to finance
    # Of the cash, what workers took on site for repairs in the month (voided aside), and the workers' cash the
    # clerks received in handovers recorded in the month (billing/cash): what is still with workers is the gap.
    cash_on_site_cents: int = 0
    cash_handed_over_cents: int = 0
    closed: bool = False
    closed_by: str | None = None
    closed_at: UtcDatetime | None = None


class MonthCloseCreate(BaseModel):
    month: Annotated[str, Field(pattern=MONTH_PATTERN, description="YYYY-MM, a month of the site that has ended")]
