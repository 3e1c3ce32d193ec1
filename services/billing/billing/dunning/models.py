"""Dunning (催缴): a ladder per site of what to do as a unit's arrears age (a notice, a reminder, a call by an agent,
a home visit, a formal letter), each step recorded once per arrears episode with every contact made and its outcome.
Dunning holds while the unit has an open valid complaint (the complaint is fixed first), and an extra-care
household gets the formal letter only with a manager's approval."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.database import Base
from billing.directory.models import PayerRead, UnitRead
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime

Action = Literal["notice", "reminder", "call", "visit", "letter"]
ACTIONS: tuple[Action, ...] = ("notice", "reminder", "call", "visit", "letter")
# 先礼后兵: a written notice, a reminder, a call, a visit, and only then the formal letter (催缴通知书).
DEFAULT_LADDER: tuple[tuple[int, Action], ...] = (
    (1, "notice"),
    (15, "reminder"),
    (30, "call"),
    (60, "visit"),
    (90, "letter"),
)


class StepStatus(StrEnum):
    open = "open"  # to be done (a call, a visit) or sent
    awaiting_approval = "awaiting_approval"  # a formal letter to an extra-care household, for a manager
    done = "done"  # its contact is logged (a notice or reminder is done once sent)


class DunningLadder(Base):
    __tablename__ = "dunning_ladders"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    steps: Mapped[list[dict[str, object]]] = mapped_column(JSON)  # [{"days": 1, "action": "notice"}, ...]
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DunningStep(Base):
    __tablename__ = "dunning_steps"
    __table_args__ = (UniqueConstraint("unit_id", "episode", "action", name="uq_dunning_steps_episode_action"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    # The arrears episode: the oldest due date unpaid when the step was taken (paid up, a new one starts).
    episode: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(16))
    days_overdue: Mapped[int] = mapped_column(Integer)
    overdue_cents: Mapped[int] = mapped_column(BigInteger)
    payer_party_id: Mapped[str | None] = mapped_column(String(64))
    extra_care: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DunningContact(Base):
    __tablename__ = "dunning_contacts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
    promised_on: Mapped[date | None] = mapped_column(Date)
    made_by: Mapped[str] = mapped_column(String(128))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ComplaintHold(Base):
    """A valid complaint of a unit (intake's events), open until it is resolved: dunning waits for it."""

    __tablename__ = "complaint_holds"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    open: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LadderStep(BaseModel):
    days: Annotated[int, Field(ge=1, le=3650, description="Days overdue from which the step is taken")]
    action: Action


class LadderUpdate(BaseModel):
    steps: Annotated[list[LadderStep], Field(min_length=1, max_length=10)]

    @field_validator("steps")
    @classmethod
    def rising(cls, steps: list[LadderStep]) -> list[LadderStep]:
        days = [s.days for s in steps]
        if days != sorted(set(days)) or len({s.action for s in steps}) != len(steps):
            raise ValueError("each action once, at strictly rising days")
        return steps


class LadderRead(LadderUpdate):
    site: str
    updated_by: str | None
    updated_at: UtcDatetime | None


Channel = Literal["call", "sms", "visit", "letter", "in_person", "wechat"]
Outcome = Literal["reached", "no_answer", "promised", "refused", "paid", "disputed", "other"]


class ContactCreate(BaseModel):
    channel: Channel
    outcome: Outcome
    note: Annotated[str | None, Field(max_length=500)] = None
    promised_on: date | None = Field(None, description="The day the payer promised to pay (outcome promised)")


class ContactRead(BaseModel):
    id: str
    channel: str
    outcome: str
    note: str | None
    promised_on: date | None
    made_by: str
    made_at: UtcDatetime


class StepRead(BaseModel):
    id: str
    site: str
    unit_id: str
    episode: date
    action: Action
    days_overdue: int
    overdue_cents: int
    payer_party_id: str | None
    extra_care: bool
    status: StepStatus
    created_at: UtcDatetime
    approved_by: str | None
    approved_at: UtcDatetime | None
    contacts: list[ContactRead] = []


class HeldUnit(BaseModel):
    unit_id: str
    reason: Literal["complaint", "installment_plan"]
    days_overdue: int


class DunningRunRead(BaseModel):
    site: str
    as_of: date
    in_arrears: int
    steps: list[StepRead]  # taken by this run
    held: list[HeldUnit]


class PlanStatus(StrEnum):
    active = "active"  # dunning holds while the payer keeps to the schedule
    completed = "completed"  # everything in it is paid
    broken = "broken"  # an instalment was missed: dunning goes on
    cancelled = "cancelled"  # ended by the office (the payer asks for another, or the terms changed): dunning goes on


class InstallmentPlan(Base):
    """Paying arrears in instalments (分期), agreed with a payer in hardship: the ladder waits while they keep to it."""

    __tablename__ = "installment_plans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    schedule: Mapped[list[dict[str, object]]] = mapped_column(JSON)  # [{"due": "2026-12-15", "amount_cents": 10000}]
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    agreed_by: Mapped[str] = mapped_column(String(128))
    agreed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(128))
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))


class Installment(BaseModel):
    due: date
    amount_cents: Annotated[int, Field(gt=0, le=10**11)]


class PlanCreate(BaseModel):
    site: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    unit_id: Annotated[str, Field(min_length=1, max_length=64)]
    installments: Annotated[list[Installment], Field(min_length=2, max_length=24)]
    note: Annotated[str | None, Field(max_length=500)] = None

    @field_validator("installments")
    @classmethod
    def rising(cls, installments: list[Installment]) -> list[Installment]:
        dues = [i.due for i in installments]
        if dues != sorted(set(dues)):
            raise ValueError("instalments fall due on strictly rising days")
        return installments


class PlanRead(BaseModel):
    id: str
    site: str
    unit_id: str
    total_cents: int
    installments: list[Installment]
    status: PlanStatus
    note: str | None
    agreed_by: str
    agreed_at: UtcDatetime
    paid_cents: int | None = None  # paid since it was agreed
    due_by_now_cents: int | None = None  # what the schedule asked for by today
    cancelled_by: str | None = None
    cancelled_at: UtcDatetime | None = None
    cancel_reason: str | None = None


class PlanCancel(BaseModel):
    reason: Annotated[
        str, Field(min_length=1, max_length=500, description="Why the plan ends: the payer asks for other terms, ...")
    ]


class OverdueLine(BaseModel):
    charge_id: str
    fee_item: str
    item: str
    due_date: date
    outstanding_cents: int


class LetterRead(BaseModel):
    """A formal letter (催缴通知书) as printed: its step, to whom, and what is overdue on the day it is printed (the
    step keeps what was overdue when it was taken)."""

    step: StepRead
    currency: str
    unit: UnitRead | None
    payer: PayerRead | None
    as_of: date
    overdue: list[OverdueLine]
    overdue_cents: int
