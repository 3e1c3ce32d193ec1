"""Work orders (工单): a request routed to the department that does the work, its life from assignment to
completion, the time limits on each stage and the nonconformance slips a breached limit leaves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.database import Base
from dispatch.department.models import TOKEN
from pm_platform.db import UtcDateTime
from pm_platform.envelope import OptionalUtcDatetime, UtcDatetime

# Request kinds that need no work: the front desk answers them itself.
NO_WORK_ORDER_KINDS = frozenset({"inquiry", "praise", "suggestion"})

PRIORITIES = ("low", "normal", "high", "urgent")

# A decoration inspection intake asked for (dispatch.inspection): an engineering work order that serves no request.
# Its request_id carries the inspection's id, and its events name it in ``inspection_id`` so that the services
# following requests (intake's request timeline, survey's follow-ups, notification's messages to the reporter)
# skip it. It is completed with its checklist outcome, not with a plain report.
INSPECTION_CATEGORY = "decoration_inspection"
INSPECTION_KIND = "inspection"


def raised(priority: str) -> str:
    """One step up (an escalated rework order is more pressing than the work it redoes)."""
    return PRIORITIES[min(PRIORITIES.index(priority) + 1, len(PRIORITIES) - 1)]


class Status(StrEnum):
    created = "created"  # routed to a department, nobody assigned (a pool order waits here to be claimed)
    assigned = "assigned"  # a worker is named, not yet signed for
    accepted = "accepted"  # signed for (签领)
    on_the_way = "on_the_way"
    on_site = "on_site"  # arrived (到场)
    paused = "paused"  # waiting for parts or for the owner; the clock stops
    completed = "completed"
    returned = "returned"  # handed back to the service center with a reason; it reassigns, transfers or cancels
    transferred = "transferred"  # moved to another department, waiting there like a new order
    cancelled = "cancelled"


# The work-order state machine: anything not listed here is an illegal transition (409). Accepting is
# optional (a department may report a quick job done straight away); a paused order resumes to where it was
# and only from there goes on.
_WORKING = {Status.paused, Status.completed, Status.cancelled, Status.transferred, Status.returned}
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.created: frozenset(
        {Status.assigned, Status.accepted, Status.completed, Status.cancelled, Status.transferred, Status.returned}
    ),
    Status.transferred: frozenset(
        {Status.assigned, Status.accepted, Status.completed, Status.cancelled, Status.transferred, Status.returned}
    ),
    Status.assigned: frozenset(
        {Status.assigned, Status.accepted, Status.completed, Status.cancelled, Status.transferred, Status.returned}
    ),
    Status.accepted: frozenset({Status.assigned, Status.on_the_way, Status.on_site, *_WORKING}),
    Status.on_the_way: frozenset({Status.on_site, *_WORKING}),
    Status.on_site: frozenset(_WORKING),
    # Resuming returns to where it paused (service.resume); nothing else leaves a pause but these.
    Status.paused: frozenset({Status.cancelled, Status.returned, Status.transferred}),
    Status.returned: frozenset({Status.assigned, Status.transferred, Status.cancelled}),
    Status.completed: frozenset(),
    Status.cancelled: frozenset(),
}
TERMINAL = frozenset({Status.completed, Status.cancelled})
# Waiting to be signed for: the acceptance limit runs.
AWAITING_ACCEPTANCE = frozenset({Status.created, Status.transferred, Status.assigned})
OPEN = frozenset(set(Status) - TERMINAL)


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


class Limit(StrEnum):
    acceptance = "acceptance"
    arrival = "arrival"
    completion = "completion"


class Stage(StrEnum):
    warning = "warning"
    breach = "breach"


def timer_kind(limit: Limit, stage: Stage) -> str:
    return f"workorder.{limit}.{stage}"


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_site_department_status", "site", "department", "status"),
        Index("ix_work_orders_site_assignee", "site", "assignee"),
    )
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
    appointment_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    appointment_end: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(120))
    # A rework order redoes the work of ``original_work_order_id`` after the owner reopened the request.
    rework: Mapped[bool] = mapped_column(Boolean, default=False)
    original_work_order_id: Mapped[str | None] = mapped_column(String(64))
    # Time limits: the class that applies, the deadlines (``due_at`` is the arrival deadline, the owner's
    # promise) and when the clock started (the request's time, moved on by pauses).
    limit_class: Mapped[str] = mapped_column(String(16), default="normal")
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    clock_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acceptance_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completion_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Pause: where it resumes to, why, since when.
    paused_from: Mapped[str | None] = mapped_column(String(16))
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    waiting_for: Mapped[str | None] = mapped_column(String(16))
    last_reason: Mapped[str | None] = mapped_column(Text)
    # The department's report.
    result: Mapped[str | None] = mapped_column(Text)
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    minutes_spent: Mapped[int | None] = mapped_column(Integer)
    charge_code: Mapped[str | None] = mapped_column(String(64))
    charge_item: Mapped[str | None] = mapped_column(String(120))
    charge_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    charge_currency: Mapped[str | None] = mapped_column(String(3))
    worker: Mapped[str | None] = mapped_column(String(120))  # who signed for it, then who reported it done
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    on_the_way_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    returns: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


def inspection_id_of(order: WorkOrder) -> str | None:
    """The inspection a work order carries out, if it is one."""
    return order.request_id if order.category == INSPECTION_CATEGORY else None


class Transition(Base):
    """Every state change of a work order, in order: its history and the department report's source."""

    __tablename__ = "work_order_transitions"
    __table_args__ = (Index("ix_work_order_transitions_site_department_at", "site", "department", "at"),)
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    work_order_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))  # the department holding the order after the change
    from_department: Mapped[str | None] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(120))
    actor: Mapped[str | None] = mapped_column(String(120))  # None: the system (an assignment policy)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class NonconformanceSlip(Base):
    """不合格单: a breached time limit recorded against the department that held the order."""

    __tablename__ = "nonconformance_slips"
    __table_args__ = (Index("ix_nonconformance_slips_site_department", "site", "department", "breached_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[str] = mapped_column(String(64), index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    limit: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    breached_at: Mapped[datetime] = mapped_column(UtcDateTime())
    assignee: Mapped[str | None] = mapped_column(String(120))
    status_at_breach: Mapped[str] = mapped_column(String(16))


Part = Annotated[str, Field(min_length=1, max_length=120)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class Charge(BaseModel):
    """A paid in-unit repair at the published rate, in integer minor units (fen)."""

    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=120)
    amount_cents: int = Field(ge=0, strict=True)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class ChargeInput(BaseModel):
    """The charge of a paid in-unit repair, from the site's price list: name the item by ``code`` (the amount is
    the list price x ``quantity``) or state ``item`` and ``amount_cents``, which must match the list."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(default=None, pattern=TOKEN)
    item: str | None = Field(default=None, min_length=1, max_length=120)
    amount_cents: int | None = Field(default=None, ge=0, le=10**11, strict=True)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    quantity: int = Field(default=1, ge=1, le=100, strict=True)

    @model_validator(mode="after")
    def _one_way(self) -> ChargeInput:
        if (self.code is None) == (self.item is None):
            raise ValueError("name the price-list item either by code or by item (with amount_cents)")
        if self.item is not None and self.amount_cents is None:
            raise ValueError("amount_cents is required with item")
        return self


class WorkOrderComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: str = Field(min_length=1, max_length=2000)
    parts: list[Part] = Field(default_factory=list, max_length=100)
    minutes_spent: int | None = Field(default=None, ge=0, le=60 * 24 * 30, strict=True)
    charge: ChargeInput | None = None


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str = Field(min_length=1, max_length=120)


class WithReason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(pattern=TOKEN)
    reason: Reason


class WaitingFor(StrEnum):
    parts = "parts"
    owner = "owner"
    other = "other"


class Pause(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waiting_for: WaitingFor
    reason: Reason


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Reroute(BaseModel):
    """The service center overrides routing: another department and/or another priority (time limits follow)."""

    model_config = ConfigDict(extra="forbid")
    department: str | None = Field(default=None, pattern=TOKEN)
    priority: Priority | None = None
    reason: Reason


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
    assignee: str | None
    rework: bool
    original_work_order_id: str | None
    limit_class: str
    requested_at: UtcDatetime
    acceptance_due_at: OptionalUtcDatetime
    due_at: UtcDatetime
    completion_due_at: OptionalUtcDatetime
    escalated_at: OptionalUtcDatetime
    paused_from: str | None
    waiting_for: str | None
    last_reason: str | None
    result: str | None
    parts: list[str]
    minutes_spent: int | None
    charge: Charge | None
    charge_code: str | None
    worker: str | None
    returns: int
    created_at: UtcDatetime
    assigned_at: OptionalUtcDatetime
    accepted_at: OptionalUtcDatetime
    on_the_way_at: OptionalUtcDatetime
    arrived_at: OptionalUtcDatetime
    completed_at: OptionalUtcDatetime
    cancelled_at: OptionalUtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def of(cls, order: WorkOrder) -> WorkOrderRead:
        fields: dict[str, Any] = {name: getattr(order, name) for name in cls.model_fields if name != "charge"}
        charge = None
        if order.charge_item is not None and order.charge_amount_cents is not None:
            charge = Charge(
                item=order.charge_item, amount_cents=order.charge_amount_cents, currency=order.charge_currency or "CNY"
            )
        fields["parts"] = list(order.parts or [])
        return cls(**fields, charge=charge)


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_status: str
    to_status: str
    department: str
    from_department: str | None
    assignee: str | None
    actor: str | None
    reason: str | None
    at: UtcDatetime


class SlipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    department: str
    work_order_id: str
    request_id: str
    limit: str
    due_at: UtcDatetime
    breached_at: UtcDatetime
    assignee: str | None
    status_at_breach: str
