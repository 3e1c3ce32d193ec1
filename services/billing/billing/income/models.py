"""Income not tied to a unit's account (其他收入): temporary parking paid at the gate, an outside renter's rent. Each
row is money received with a receipt of its own gapless series per site (``HARBOUR-SR-000001``, apart from payment
and deposit receipts); month-end counts it under its fee item as billed and collected at once, and in the takings
per method. A mistake is voided with a reason on the site's day it was taken, never edited."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime

# Money taken at the gate or the counter: no bank transfer here (a transfer is matched to a unit's account).
IncomeMethod = Literal["cash", "card", "online"]
IncomeSource = Literal["parking_session", "rental_contract"]


class IncomeReceipt(Base):
    __tablename__ = "income_receipts"
    __table_args__ = (
        UniqueConstraint("site", "receipt_seq", name="uq_income_receipts_site_seq"),
        UniqueConstraint("site", "reference", name="uq_income_receipts_site_reference"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    fee_item: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(64), index=True)
    # What one receipt pays for while it counts (a parking session, a contract's period): unique, cleared by a void
    # so the same thing can be paid again.
    settles: Mapped[str | None] = mapped_column(String(96), unique=True)
    payer: Mapped[str] = mapped_column(String(120))  # a plate, an outside renter's name
    item: Mapped[str] = mapped_column(String(160))
    period: Mapped[str | None] = mapped_column(String(7))  # the rent period it pays
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(64))  # the POS or online transaction, when there is one
    receipt_seq: Mapped[int] = mapped_column(BigInteger)
    receipt_no: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    recorded_by: Mapped[str] = mapped_column(String(128))
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    voided_by: Mapped[str | None] = mapped_column(String(128))
    void_reason: Mapped[str | None] = mapped_column(String(500))


class IncomeReceiptCounter(Base):
    """The last income receipt number issued per site: a series of its own, so payment receipts stay gapless."""

    __tablename__ = "income_receipt_counters"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class IncomeRead(BaseModel):
    id: str
    site: str
    fee_item: str
    source: IncomeSource
    source_id: str
    payer: str
    item: str
    period: str | None
    amount_cents: int
    currency: str
    method: IncomeMethod
    reference: str | None
    receipt_no: str
    received_at: UtcDatetime
    recorded_by: str
    voided_at: UtcDatetime | None
    voided_by: str | None
    void_reason: str | None

    @classmethod
    def of(cls, row: IncomeReceipt) -> IncomeRead:
        return cls.model_validate(row, from_attributes=True)
