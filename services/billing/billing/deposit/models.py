"""Deposits (押金): money billing holds for a unit (a decoration permit's deposit; later tenancy, keys and cards)
and returns at the end less deductions, each with its reason. A deposit is held money, never income: it is not a
charge or a payment, so it never counts in a unit's balance, its arrears, the collection rate or the takings.

A deposit moves ``requested -> paid -> returned``; anything else answers 409 and changes nothing. A settlement
that arrives before the deposit is paid waits on the deposit (``settlement``) and is applied the moment it is
received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.payment.models import Method
from pm_platform.db import UtcDateTime
from pm_platform.envelope import OptionalUtcDatetime, UtcDatetime
from pm_platform.errors import Conflict

DECORATION = "decoration"
TENANCY = "tenancy"  # 租赁/入住押金: returned at the move-out's settlement, less what the unit still owes
KEY_CARD = "key_card"  # 钥匙/门禁卡押金: each key or card's deposit back as it is returned at the move-out
Purpose = Literal["decoration", "tenancy", "key_card"]
# Why a deposit was kept back (besides intake's decoration deductions: damage, fine, cleaning, other).
UNPAID_BALANCE = "unpaid_balance"
NOT_RETURNED = "not_returned"


class DepositStatus(StrEnum):
    requested = "requested"  # asked for (the permit was approved), not yet received
    paid = "paid"  # received by a clerk: held
    returned = "returned"  # paid back less its deductions


# The deposit's state machine, by action: what each action needs and where it leads.
TRANSITIONS: dict[str, tuple[DepositStatus, DepositStatus]] = {
    "receive": (DepositStatus.requested, DepositStatus.paid),
    "return": (DepositStatus.paid, DepositStatus.returned),
}


def allowed_actions(status: DepositStatus) -> list[str]:
    return [action for action, (source, _) in TRANSITIONS.items() if source == status]


def move(deposit_id: str, status: DepositStatus, action: str) -> DepositStatus:
    """The status ``action`` leads to from ``status``, or Conflict (409) naming the current status and the
    actions it allows."""
    source, target = TRANSITIONS[action]
    if status != source:
        raise Conflict(
            f"deposit {deposit_id} is {status}; it cannot {action}",
            current_status=str(status),
            allowed_actions=allowed_actions(status),
        )
    return target


@dataclass(frozen=True)
class Split:
    """A settlement applied to a deposit: what the deposit covers of the deductions, what goes back to the
    payer, and what the deposit does not cover (charged on the unit's account)."""

    deducted_cents: int
    returned_cents: int
    shortfall_cents: int


def split(held_cents: int, deduction_cents: list[int]) -> Split:
    """Deductions come out of the deposit; beyond it, the remainder is owed as a charge."""
    total = sum(deduction_cents)
    deducted = min(total, held_cents)
    return Split(deducted_cents=deducted, returned_cents=held_cents - deducted, shortfall_cents=total - deducted)


class Deposit(Base):
    __tablename__ = "deposits"
    __table_args__ = (
        # One deposit per purpose and reference at a site: a second approval of the same permit doubles nothing.
        UniqueConstraint("site", "purpose", "reference", name="uq_deposits_site_purpose_reference"),
        UniqueConstraint("site", "receipt_seq", name="uq_deposits_site_receipt_seq"),
        Index("ix_deposits_site_unit", "site", "unit_id"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    # The decoration permit's id; for a tenancy or key/card deposit, the party who moved in and paid it.
    reference: Mapped[str] = mapped_column(String(64))
    # A key/card deposit's keys and cards, each with its own deposit: [{"number", "amount_cents"}].
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    payer_party_id: Mapped[str | None] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), index=True)
    # The decoration fee charged with it (income, on the unit's account).
    fee_charge_id: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Received: how, the clerk's reference, the deposit receipt (its own series per site).
    method: Mapped[str | None] = mapped_column(String(16))
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    receipt_seq: Mapped[int | None] = mapped_column(BigInteger)
    receipt_no: Mapped[str | None] = mapped_column(String(80))
    received_by: Mapped[str | None] = mapped_column(String(128))
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The settlement asked for (deductions with reasons), kept as it came; applied once the deposit is paid.
    deductions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deducted_cents: Mapped[int | None] = mapped_column(BigInteger)
    returned_cents: Mapped[int | None] = mapped_column(BigInteger)
    shortfall_charge_id: Mapped[str | None] = mapped_column(String(64))
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The chain of events the deposit belongs to (the permit's correlation).
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DepositReceiptCounter(Base):
    """The last deposit receipt number issued per site: a series of its own, so payment receipts stay gapless."""

    __tablename__ = "deposit_receipt_counters"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class DepositReceive(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Method
    reference: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class DepositItem(BaseModel):
    """A key or access card with its own deposit."""

    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, Field(min_length=1, max_length=64, description="The key's or card's number")]
    amount_cents: Annotated[int, Field(ge=0, le=10**9)]


class UnitDepositCreate(BaseModel):
    """A deposit a clerk takes at a move-in: the tenancy deposit (an amount) or the keys' and cards' (each its own)."""

    model_config = ConfigDict(extra="forbid")
    purpose: Literal["tenancy", "key_card"]
    party_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description="Who pays it; default: the party living in the unit, else its payer",
        ),
    ] = None
    amount_cents: Annotated[int | None, Field(ge=1, le=10**11, description="A tenancy deposit's amount")] = None
    items: Annotated[list[DepositItem], Field(max_length=100, description="A key/card deposit's keys and cards")] = []
    method: Method
    reference: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class Deduction(BaseModel):
    reason: str
    amount_cents: int
    kind: str | None = None


class DepositRead(BaseModel):
    id: str
    site: str
    unit_id: str
    purpose: str
    reference: str
    payer_party_id: str | None
    amount_cents: int
    currency: str
    status: str
    allowed_actions: list[str]
    fee_charge_id: str | None
    requested_at: UtcDatetime
    method: str | None
    payment_reference: str | None
    receipt_no: str | None
    received_by: str | None
    paid_at: OptionalUtcDatetime
    # A settlement received and waiting for the deposit to be paid.
    settlement_pending: bool
    deductions: list[Deduction]
    settled_at: OptionalUtcDatetime
    deducted_cents: int | None
    returned_cents: int | None
    shortfall_charge_id: str | None
    returned_at: OptionalUtcDatetime
    items: list[DepositItem] = []

    @classmethod
    def of(cls, deposit: Deposit) -> DepositRead:
        status = DepositStatus(deposit.status)
        fields = {name: getattr(deposit, name) for name in cls.model_fields if hasattr(Deposit, name)}
        fields.update(
            allowed_actions=allowed_actions(status),
            settlement_pending=deposit.settled_at is not None and status == DepositStatus.requested,
            deductions=[Deduction.model_validate(d) for d in deposit.deductions or []],
            items=[DepositItem.model_validate(i) for i in deposit.items or []],
        )
        return cls(**fields)
