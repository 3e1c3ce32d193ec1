"""Payments a clerk records against a unit's account, each with a receipt numbered without gaps per site.
A mistake is corrected by voiding with a reason, never by editing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.directory.models import PayerRead, UnitRead
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDatetime, UtcDatetime

Method = Literal["cash", "card", "transfer", "online"]
# Arrears paid out of the leaving party's tenancy deposit at a move-out's settlement (押金抵扣): a payment billing
# records itself, never a method a clerk picks.
DEPOSIT_OFFSET = "deposit"


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("site", "reference", name="uq_payments_site_reference"),
        UniqueConstraint("site", "receipt_seq", name="uq_payments_site_receipt_seq"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    # The bank/POS/online transaction or cash-book reference: a repeat of it is the same payment.
    reference: Mapped[str] = mapped_column(String(64))
    receipt_seq: Mapped[int] = mapped_column(BigInteger)
    receipt_no: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(500))
    # Taken for this one charge (cash for a repair, on site: billing/cash): it settles that charge before the
    # oldest due ones.
    charge_id: Mapped[str | None] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    voided_by: Mapped[str | None] = mapped_column(String(128))
    void_reason: Mapped[str | None] = mapped_column(String(500))


class ReceiptCounter(Base):
    """The last receipt number issued per site; incremented in the payment's transaction, so a rolled-back
    payment leaves no gap."""

    __tablename__ = "receipt_counters"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class PaymentCreate(BaseModel):
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    unit_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount_cents: Annotated[int, Field(gt=0, le=10**11)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CNY"
    method: Method
    reference: Annotated[str, Field(min_length=1, max_length=64)]
    received_at: InputDatetime | None = None
    note: Annotated[str | None, Field(max_length=500)] = None


class PaymentVoid(BaseModel):
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class MethodTotal(BaseModel):
    method: str
    payments: int
    amount_cents: int


class PaymentsSummary(BaseModel):
    """A month's takings for the reconciliation with finance: totals by method, the receipts issued, voids."""

    site: str
    month: str
    currency: str
    payments: int
    amount_cents: int
    by_method: list[MethodTotal]
    voided: int
    voided_cents: int
    first_receipt: str | None
    last_receipt: str | None
    # Money paid back in the month (approved refunds, whichever month their payments were received in).
    refunds: int = 0
    refunded_cents: int = 0


class PaymentRead(BaseModel):
    id: str
    site: str
    unit_id: str
    amount_cents: int
    currency: str
    method: str
    reference: str
    receipt_no: str
    note: str | None
    charge_id: str | None = None  # taken for this charge (on site, for a repair): it settles it first
    received_at: UtcDatetime
    recorded_by: str
    recorded_at: UtcDatetime
    voided_at: UtcDatetime | None
    voided_by: str | None
    void_reason: str | None


class ReceiptItem(BaseModel):
    """The part of one charge a payment settled (payments settle the oldest due charges first)."""

    charge_id: str
    kind: str
    item: str
    period: str | None
    amount_cents: int


class ReceiptRead(BaseModel):
    """What a printed receipt carries: the payment, the unit and its payer, and the charges it settled."""

    payment: PaymentRead
    unit: UnitRead | None
    payer: PayerRead | None
    items: list[ReceiptItem]
    # Paid beyond every charge recorded so far: a credit the unit's next charges use.
    credit_cents: int
