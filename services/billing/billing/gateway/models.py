"""Online payment orders: an owner (or a clerk for them) asks to pay an amount online; the payment gateway takes
the money and calls back, signed; the first good callback records the payment with the site's next receipt, and
every repeat of it changes nothing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDatetime, UtcDatetime


class OrderStatus(StrEnum):
    created = "created"  # waiting for the payer at the gateway
    paid = "paid"  # the gateway's callback settled it: payment_id is the payment
    failed = "failed"  # the gateway said the payer declined or the card failed
    expired = "expired"  # not paid in time (read-only: a late callback is still money received, and recorded)


class PaymentOrder(Base):
    __tablename__ = "payment_orders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    bill_id: Mapped[str | None] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    return_url: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The gateway's transaction: one per order, the payment's reference.
    gateway_txn_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    payment_id: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PaymentOrderCreate(BaseModel):
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    unit_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount_cents: Annotated[int | None, Field(gt=0, le=10**11)] = Field(
        None, description="Default: the bill's amount due, or else the unit's balance"
    )
    bill_id: Annotated[str | None, Field(max_length=64)] = None
    return_url: Annotated[str | None, Field(max_length=500, pattern=r"^https?://")] = Field(
        None, description="Where the gateway sends the payer back to"
    )


class PaymentOrderRead(BaseModel):
    id: str
    site: str
    unit_id: str
    bill_id: str | None
    amount_cents: int
    currency: str
    status: OrderStatus
    created_at: UtcDatetime
    expires_at: UtcDatetime
    payment_id: str | None
    receipt_no: str | None = None
    pay_url: str | None = None  # where to send the payer (while the order waits for payment)


class GatewayCallback(BaseModel):
    """What the gateway posts to /payment-gateway/callback, signed with the shared secret (X-Gateway-Signature:
    the hex HMAC-SHA256 of the raw body)."""

    order_id: Annotated[str, Field(min_length=1, max_length=64)]
    txn_id: Annotated[str, Field(min_length=1, max_length=60)]
    status: Literal["paid", "failed"]
    amount_cents: Annotated[int, Field(gt=0)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    paid_at: InputDatetime | None = None
