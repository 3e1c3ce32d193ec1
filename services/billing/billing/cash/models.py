"""Cash taken on site (现场收费): a department worker who does a paid repair takes the owner's cash there and issues
the receipt at once (不得收费不开收据), a payment of method cash for that repair charge from the site's one receipt
series; at the end of the day the worker hands the day's cash to a clerk (现金交接), who counts it: the handover is
recorded only when the count is exactly what the worker's receipts add up to (款帐相符)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Boolean, Date, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.payment.models import PaymentRead
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime

# Workers of this department may take the cash of a repair charge whose worker billing does not know (a charge
# recorded before billing kept who did the repair).
DEFAULT_DEPARTMENT = "engineering"
CLIENT_KEY_PATTERN = r"^[A-Za-z0-9_-]{8,40}$"


class CashCollection(Base):
    """One receipt a worker issued on site: its payment (method cash, for one charge) and where its cash is."""

    __tablename__ = "cash_collections"
    __table_args__ = (
        # The phone's key for one taking of money: a retry on a bad connection finds this receipt again.
        UniqueConstraint("site", "client_key", name="uq_cash_collections_site_client_key"),
        Index("ix_cash_collections_pending", "site", "collected_by", "collected_on"),
    )
    payment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(40))
    charge_id: Mapped[str] = mapped_column(String(64), index=True)
    work_order_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    collected_by: Mapped[str] = mapped_column(String(128))
    department: Mapped[str | None] = mapped_column(String(64))
    # False: billing did not know who did the repair, and a worker of the department took the cash.
    by_assignee: Mapped[bool] = mapped_column(Boolean)
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    collected_on: Mapped[date] = mapped_column(Date)  # the site's day: the handover is per worker and day
    handover_id: Mapped[str | None] = mapped_column(String(64), index=True)


class CashHandover(Base):
    """A worker's cash of a day counted by a clerk: recorded only when it balanced."""

    __tablename__ = "cash_handovers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    worker: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    receipts: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # counted, and what the receipts add up to
    currency: Mapped[str] = mapped_column(String(3))
    received_by: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    note: Mapped[str | None] = mapped_column(String(500))


class CashReceiptCreate(BaseModel):
    client_key: Annotated[
        str,
        Field(
            pattern=CLIENT_KEY_PATTERN,
            description="Made once by the phone for this taking of money and sent again on a retry: the same key "
            "is the same receipt, never a second one.",
        ),
    ]
    amount_cents: Annotated[int, Field(gt=0, le=10**11, description="At most what is outstanding of the charge.")]
    note: Annotated[str | None, Field(max_length=500)] = None


class CashReceiptRead(BaseModel):
    payment: PaymentRead
    charge_id: str
    work_order_id: str | None
    unit_id: str
    collected_by: str
    department: str | None
    by_assignee: bool
    collected_on: date
    handover_id: str | None
    outstanding_cents: int | None = None  # what is still unpaid of the charge after it (on taking it)


class CashDue(BaseModel):
    """A repair charge the caller may take cash for, with what is still unpaid of it."""

    charge_id: str
    site: str
    unit_id: str
    item: str
    work_order_id: str | None
    request_id: str | None
    amount_cents: int
    outstanding_cents: int
    currency: str
    worker: str | None
    recorded_at: UtcDatetime


class PendingCash(BaseModel):
    """A worker's cash of one day not handed over yet: the live receipts and what they add up to."""

    site: str
    worker: str
    day: date
    currency: str
    receipts: list[CashReceiptRead]
    expected_cents: int


class CashHandoverCreate(BaseModel):
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    worker: Annotated[str, Field(min_length=1, max_length=128)]
    day: Annotated[date, Field(description="The site's day the cash was taken on.")]
    counted_cents: Annotated[int, Field(ge=0, le=10**11, description="What the clerk counted, in fen.")]
    payment_ids: Annotated[
        list[str] | None,
        Field(
            max_length=500,
            description="The receipts the clerk counted (as listed as pending); every pending one of the day when "
            "left out.",
        ),
    ] = None
    note: Annotated[str | None, Field(max_length=500)] = None


class CashHandoverRead(BaseModel):
    id: str
    site: str
    worker: str
    day: date
    receipts: int
    amount_cents: int
    currency: str
    received_by: str
    received_at: UtcDatetime
    note: str | None
    payment_ids: list[str] = []
