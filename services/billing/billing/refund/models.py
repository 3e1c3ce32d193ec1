"""Refunds: money paid back out of a payment, asked for by a clerk with a reason and approved (or rejected) by a
manager who is not the one who asked. Only an approved refund counts on the account (paid less refunded); every
step keeps who, when and why."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.payment.models import Method
from pm_platform.approval import ApprovalColumns, ApprovalStatus
from pm_platform.envelope import UtcDatetime

# A refund is asked for by a clerk and decided by a manager (pm_platform.approval).
RefundStatus = ApprovalStatus

# What still stands against a payment's refundable amount.
PENDING_OR_APPROVED = (RefundStatus.requested.value, RefundStatus.approved.value)


class Refund(ApprovalColumns, Base):
    __tablename__ = "refunds"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    payment_id: Mapped[str] = mapped_column(String(64), index=True)
    receipt_no: Mapped[str] = mapped_column(String(80))  # the refunded payment's
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))  # how the money goes back


class RefundCreate(BaseModel):
    amount_cents: Annotated[int, Field(gt=0, le=10**11)]
    reason: Annotated[str, Field(min_length=3, max_length=500)]
    method: Method | None = Field(default=None, description="How the money goes back; the payment's own by default.")


class RefundRead(BaseModel):
    id: str
    site: str
    unit_id: str
    payment_id: str
    receipt_no: str
    amount_cents: int
    currency: str
    method: str
    reason: str
    status: RefundStatus
    requested_by: str
    requested_at: UtcDatetime
    decided_by: str | None
    decided_at: UtcDatetime | None
    decision_note: str | None
