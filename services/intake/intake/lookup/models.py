"""Caller lookup: who is calling, about which unit, what is open, and the unit's payment status as context."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from intake.organization.models import PartyRead, UnitRead
from intake.request.models import RequestRead
from pm_platform.db import UtcDateTime


class PaymentStatus(Base):
    """Billing's account status of a unit (billing.account.status_changed.v1): context, never a block."""

    __tablename__ = "payment_status"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    balance_cents: Mapped[int] = mapped_column(Integer)
    overdue_cents: Mapped[int] = mapped_column(Integer)
    in_arrears: Mapped[bool] = mapped_column(Boolean)
    oldest_due: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LastBill(Base):
    """The unit's latest bill (billing.bill.issued.v1): what the caller was last asked to pay, and by when."""

    __tablename__ = "last_bills"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    bill_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(7))
    amount_due_cents: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LastBillRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    bill_id: str
    period: str
    amount_due_cents: int
    due_date: date
    currency: str


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    balance_cents: int
    overdue_cents: int
    in_arrears: bool
    oldest_due: date | None
    currency: str
    updated_at: datetime
    last_bill: LastBillRead | None = None  # the latest bill: its period, amount due and due date


class CallerMatch(BaseModel):
    party: PartyRead | None
    unit: UnitRead | None
    parties: list[PartyRead]
    payment: PaymentRead | None  # None: unknown yet, or masked for the caller's role
    open_requests: list[RequestRead]
    recent_requests: list[RequestRead]


class LookupResult(BaseModel):
    matches: list[CallerMatch]
