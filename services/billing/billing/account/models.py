"""Unit accounts: the charges on a unit (paid in-unit repairs, periodic property-management fees), each with a
due date, in integer minor units; and the status last published for each unit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import BigInteger, Boolean, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.directory.models import PayerRead, UnitRead
from pm_platform.db import UtcDateTime, where_set
from pm_platform.envelope import UtcDatetime

REPAIR = "repair"
MANAGEMENT_FEE = "management_fee"
# A decoration permit's management fee (装修管理费), and what a deposit's deductions leave owed beyond the deposit.
DECORATION_FEE = "decoration_fee"
DEPOSIT_DEDUCTION = "deposit_deduction"
# Any other fee item a billing run charges (its code in ``fee_item``): announced by its bill, not one by one.
PERIODIC_FEE = "fee"
# A listed paid service (有偿服务, billing/pricelist) the desk charged: its code in ``fee_item``.
SERVICE = "service"
ChargeKind = Literal["repair", "management_fee", "decoration_fee", "deposit_deduction", "service"]
CHARGE_KINDS: tuple[ChargeKind, ...] = ("repair", "management_fee", "decoration_fee", "deposit_deduction", "service")


def charge_kind(kind: str) -> ChargeKind:
    """A charge row's kind as the API and the events name it."""
    return next((k for k in CHARGE_KINDS if k == kind), "management_fee")


# Aging buckets of overdue amounts, by days past the due date.
BUCKETS = (("1_30", 1, 30), ("31_60", 31, 60), ("61_90", 61, 90), ("over_90", 91, None))


class Charge(Base):
    __tablename__ = "charges"
    __table_args__ = (
        # One charge per unit, fee item and period, however often a period is issued (and a unit's charges, by
        # its first columns).
        UniqueConstraint("site", "unit_id", "fee_item", "period", name="uq_charges_unit_fee_period"),
        # Columns a billing run leaves empty are indexed only where set: its 400,000 rows skip these indexes.
        Index("ix_charges_late_fee_of", "late_fee_of", **where_set("late_fee_of")),
        Index("ix_charges_work_order_id", "work_order_id", **where_set("work_order_id")),
        Index("uq_charges_source_event_id", "source_event_id", unique=True, **where_set("source_event_id")),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    item: Mapped[str] = mapped_column(String(120))
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # integer minor units (fen), never float
    currency: Mapped[str] = mapped_column(String(3))
    period: Mapped[str | None] = mapped_column(String(7), index=True)  # YYYY-MM for periodic fees
    fee_item: Mapped[str | None] = mapped_column(String(32))  # the fee item's code, for a billing run's charges
    bill_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the bill that carries it
    late_fee_of: Mapped[str | None] = mapped_column(String(64))  # a late fee: the charge it is on
    waived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # a waived late fee no longer counts
    due_date: Mapped[date] = mapped_column(Date)
    request_id: Mapped[str | None] = mapped_column(String(64))
    work_order_id: Mapped[str | None] = mapped_column(String(64))
    # Who did a paid repair and their department (dispatch's completion): who may take its cash on site.
    worker: Mapped[str | None] = mapped_column(String(128))
    department: Mapped[str | None] = mapped_column(String(64))
    # The event that caused a repair charge (dispatch.workorder.completed.v1): one charge per event.
    source_event_id: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class AccountStatus(Base):
    """The status last published for a unit: a change against it is what billing.account.status_changed.v1
    announces."""

    __tablename__ = "account_status"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    overdue_cents: Mapped[int] = mapped_column(BigInteger)
    in_arrears: Mapped[bool] = mapped_column(Boolean)
    oldest_due: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ChargeRead(BaseModel):
    id: str
    site: str
    unit_id: str
    kind: str
    item: str
    amount_cents: int
    currency: str
    period: str | None
    fee_item: str | None = None
    bill_id: str | None = None
    late_fee_of: str | None = None
    waived_at: UtcDatetime | None = None
    due_date: date
    request_id: str | None
    work_order_id: str | None
    recorded_at: UtcDatetime
    # What is still unpaid of it: payments settle the oldest due charges first.
    outstanding_cents: int | None = None


class PaymentSummary(BaseModel):
    id: str
    receipt_no: str
    amount_cents: int
    currency: str
    method: str
    reference: str
    received_at: UtcDatetime
    voided: bool


class RefundSummary(BaseModel):
    """An approved refund: money paid back out of one of the unit's payments."""

    id: str
    receipt_no: str  # the refunded payment's
    amount_cents: int
    currency: str
    method: str
    reason: str
    approved_at: UtcDatetime


class AccountSummary(BaseModel):
    unit_id: str
    building: str | None
    number: str | None
    payer: PayerRead | None
    balance_cents: int
    overdue_cents: int
    in_arrears: bool
    oldest_due: date | None


class AccountRead(BaseModel):
    unit_id: str
    site: str
    as_of: date
    # Charges less payments plus refunds; `balances` splits it by currency should a unit ever hold several.
    balance_cents: int
    balances: dict[str, int]
    charged_cents: int
    paid_cents: int
    refunded_cents: int = 0  # approved refunds: the balance is charged - paid + refunded
    overdue_cents: int
    in_arrears: bool
    oldest_due: date | None
    days_overdue: int
    aging: dict[str, int]
    unit: UnitRead | None
    payer: PayerRead | None
    charges: list[ChargeRead]
    payments: list[PaymentSummary]
    refunds: list[RefundSummary] = []  # approved, by the end of as_of
    # Closed by a settled move-out (billing/occupancy); a later move-in opens it again.
    closed: bool = False
    closed_at: UtcDatetime | None = None
