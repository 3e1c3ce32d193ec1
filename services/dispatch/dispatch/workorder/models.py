"""Work orders (工单): a request routed to the department that does the work, and what it reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.database import Base

# Request kinds that need no work: the front desk answers them itself.
NO_WORK_ORDER_KINDS = frozenset({"inquiry", "praise", "suggestion"})

# Time limits from the request's creation (defaults; a per-site setting later): a normal order within
# 24 hours, an emergency or an urgent one at once ("第一时间", 30 minutes).
DUE_NORMAL = timedelta(hours=24)
DUE_URGENT = timedelta(minutes=30)


def due_after(kind: str, priority: str) -> timedelta:
    return DUE_URGENT if kind == "emergency" or priority == "urgent" else DUE_NORMAL


class Status(StrEnum):
    created = "created"
    accepted = "accepted"  # signed for by the department (签领)
    completed = "completed"
    cancelled = "cancelled"


# The work-order state machine: anything not listed here is an illegal transition (409).
# Accepting is optional: a department may report the work done straight from `created`.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.created: frozenset({Status.accepted, Status.completed, Status.cancelled}),
    Status.accepted: frozenset({Status.completed, Status.cancelled}),
    Status.completed: frozenset(),
    Status.cancelled: frozenset(),
}


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (Index("ix_work_orders_site_department_status", "site", "department", "status"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    # What the job needs (unit, place, problem, appointment); the owner's contact details stay at intake.
    unit_id: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    in_unit: Mapped[bool]
    appointment_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The department's report.
    result: Mapped[str | None] = mapped_column(Text)
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    minutes_spent: Mapped[int | None] = mapped_column(Integer)
    charge_item: Mapped[str | None] = mapped_column(String(120))
    charge_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    charge_currency: Mapped[str | None] = mapped_column(String(3))
    worker: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
OptionalUtcDatetime = Annotated[datetime | None, AfterValidator(_utc)]
Part = Annotated[str, Field(min_length=1, max_length=120)]


class Charge(BaseModel):
    """A paid in-unit repair at the published rate, in integer minor units (fen)."""

    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=120)
    amount_cents: int = Field(ge=0, strict=True)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class WorkOrderComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: str = Field(min_length=1, max_length=2000)
    parts: list[Part] = Field(default_factory=list, max_length=100)
    minutes_spent: int | None = Field(default=None, ge=0, strict=True)
    charge: Charge | None = None


class WorkOrderRead(BaseModel):
    id: str
    request_id: str
    site: str
    department: str
    kind: str
    category: str
    priority: str
    unit_id: str | None
    location: str | None
    description: str
    in_unit: bool
    appointment_start: OptionalUtcDatetime
    appointment_end: OptionalUtcDatetime
    status: str
    due_at: UtcDatetime
    result: str | None
    parts: list[str]
    minutes_spent: int | None
    charge: Charge | None
    worker: str | None
    created_at: UtcDatetime
    accepted_at: OptionalUtcDatetime
    completed_at: OptionalUtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, order: WorkOrder) -> WorkOrderRead:
        fields: dict[str, Any] = {name: getattr(order, name) for name in cls.model_fields if name != "charge"}
        charge = None
        if order.charge_item is not None and order.charge_amount_cents is not None:
            charge = Charge(item=order.charge_item, amount_cents=order.charge_amount_cents,
                            currency=order.charge_currency or "CNY")
        fields["parts"] = list(order.parts or [])
        return cls(**fields, charge=charge)
