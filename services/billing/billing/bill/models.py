"""Bills (statements, 收费通知单): what a billing run charged one unit for one period, with the balance brought
forward and the amount due by the due date. A bill is a document: what it said on issue never changes; what has
been paid of it since is read from the ledger."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import BigInteger, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.directory.models import PayerRead, UnitRead
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime


class Bill(Base):
    __tablename__ = "bills"
    # Also the index of a site's bills (its first column).
    __table_args__ = (UniqueConstraint("site", "unit_id", "period", name="uq_bills_unit_period"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    billing_period_id: Mapped[str] = mapped_column(String(64))  # the run that issued it
    payer_party_id: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    # The unit's balance before this bill's charges (positive: owed; negative: paid in advance).
    previous_balance_cents: Mapped[int] = mapped_column(BigInteger)
    charges_cents: Mapped[int] = mapped_column(BigInteger)
    amount_due_cents: Mapped[int] = mapped_column(BigInteger)  # previous balance + charges, never below 0
    due_date: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class BillLine(BaseModel):
    charge_id: str
    fee_item: str
    item: str
    amount_cents: int
    outstanding_cents: int | None = None  # unpaid of it today (payments settle the oldest due first)


class BillRead(BaseModel):
    id: str
    site: str
    unit_id: str
    period: str
    currency: str
    previous_balance_cents: int
    charges_cents: int
    amount_due_cents: int
    due_date: date
    issued_at: UtcDatetime
    lines: list[BillLine]
    unit: UnitRead | None = None
    payer: PayerRead | None = None
    # Today: what is still unpaid of this bill's charges, and the unit's whole balance.
    outstanding_cents: int | None = None
    balance_cents: int | None = None
    paid_since_cents: int | None = None  # the unit's payments received since the bill was issued
