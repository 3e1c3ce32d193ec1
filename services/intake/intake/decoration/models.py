"""Decoration permits (二次装修): a site's decoration settings, the permit's state machine, its files, worker
passes, inspections and violations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform import statemachine
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDate, InputDatetime

PROCEDURE = "decoration"


class Status(StrEnum):
    """As in ``intake.decoration.status_changed.v1``."""

    applied = "applied"
    under_review = "under_review"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    in_works = "in_works"
    stopped = "stopped"
    completion_requested = "completion_requested"
    completed = "completed"
    settled = "settled"
    closed = "closed"


class Action(StrEnum):
    apply = "apply"
    start_review = "start_review"
    approve = "approve"
    approve_with_conditions = "approve_with_conditions"
    reject = "reject"
    withdraw = "withdraw"
    start_works = "start_works"
    stop = "stop"
    resume = "resume"
    request_completion = "request_completion"
    pass_completion = "pass_completion"
    fail_completion = "fail_completion"
    settle = "settle"
    close = "close"


# The permit's state machine: in each status, the actions allowed and where each leads; anything else is 409.
TRANSITIONS: dict[Status, dict[Action, Status]] = {
    Status.applied: {
        Action.start_review: Status.under_review,
        Action.approve: Status.approved,
        Action.approve_with_conditions: Status.approved,
        Action.reject: Status.rejected,
        Action.withdraw: Status.withdrawn,
    },
    Status.under_review: {
        Action.approve: Status.approved,
        Action.approve_with_conditions: Status.approved,
        Action.reject: Status.rejected,
        Action.withdraw: Status.withdrawn,
    },
    Status.approved: {Action.start_works: Status.in_works, Action.withdraw: Status.withdrawn},
    Status.rejected: {},
    Status.withdrawn: {},
    Status.in_works: {Action.stop: Status.stopped, Action.request_completion: Status.completion_requested},
    Status.stopped: {Action.resume: Status.in_works},
    Status.completion_requested: {Action.pass_completion: Status.completed, Action.fail_completion: Status.in_works},
    Status.completed: {Action.settle: Status.settled},
    Status.settled: {Action.close: Status.closed},
    Status.closed: {},
}
# The review's time limit runs while the permit waits for engineering.
IN_REVIEW = frozenset({Status.applied, Status.under_review})
# Workers' passes let them in while works may go on.
WORKING = frozenset({Status.in_works, Status.completion_requested})


def allowed_actions(status: Status) -> list[str]:
    return statemachine.allowed_actions(TRANSITIONS, status)


def next_status(current: Status, action: Action) -> Status:
    """Where ``action`` takes a permit in ``current``; Conflict (409) naming the status and the allowed actions."""
    return statemachine.advance(TRANSITIONS, current, action, what="the permit")


class FeeMode(StrEnum):
    fixed = "fixed"
    per_m2 = "per_m2"


class Purpose(StrEnum):
    plan = "plan"  # the plan and drawings
    authorisation = "authorisation"  # the owner's authority for their contractor
    photo = "photo"  # a photo of a violation


class ReviewResult(StrEnum):
    approve = "approve"
    approve_with_conditions = "approve_with_conditions"
    reject = "reject"


class InspectionKind(StrEnum):
    routine = "routine"
    recheck = "recheck"
    completion = "completion"


class DeductionKind(StrEnum):
    damage = "damage"
    fine = "fine"
    cleaning = "cleaning"
    other = "other"


DEFAULT_CHECKLIST: list[dict[str, str]] = [
    {"code": "load_bearing_walls", "label": "承重墙、梁、柱未拆改 / Load-bearing walls, beams and columns untouched"},
    {"code": "wet_areas", "label": "厨卫防水及闭水试验 / Wet areas: waterproofing and water test"},
    {"code": "facade_windows", "label": "外立面与门窗不改动 / Facade, windows and balcony unchanged"},
    {"code": "pipes", "label": "给排水、燃气管道 / Water, drainage and gas pipes"},
    {"code": "wiring", "label": "电线穿管、不超负荷 / Wiring in conduit, within the load"},
    {"code": "fire_equipment", "label": "消防设施不遮挡不移动 / Fire equipment neither covered nor moved"},
]


# --- tables ---------------------------------------------------------------------------------------


class DecorationSettings(Base):
    """A site's decoration rules: deposit, fee, work hours, the review checklist and the working calendar."""

    __tablename__ = "decoration_settings"
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    deposit_cents: Mapped[int] = mapped_column(Integer)
    fee_mode: Mapped[str] = mapped_column(String(16))
    fee_cents: Mapped[int] = mapped_column(Integer)  # the fixed fee, or the fee per m2 of the unit's area
    work_start: Mapped[str] = mapped_column(String(5))  # site-local HH:MM
    work_end: Mapped[str] = mapped_column(String(5))
    max_workers: Mapped[int] = mapped_column(Integer)
    max_days: Mapped[int] = mapped_column(Integer)
    review_working_days: Mapped[int] = mapped_column(Integer)
    review_warning_hours: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    weekdays_off: Mapped[list[int]] = mapped_column(JSON)  # ISO weekdays, 6 and 7 for the weekend
    holidays: Mapped[list[str]] = mapped_column(JSON)  # ISO dates off
    workdays: Mapped[list[str]] = mapped_column(JSON)  # make-up working days (调休) on a weekday off
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Permit(Base):
    __tablename__ = "decoration_permits"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    applicant: Mapped[str] = mapped_column(String(16))  # owner | contractor (with the owner's authority)
    applicant_party_id: Mapped[str] = mapped_column(String(64), index=True)
    applied_by: Mapped[str] = mapped_column(String(128))
    scope: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    contractor: Mapped[dict[str, Any]] = mapped_column(JSON)
    workers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    works_from: Mapped[date] = mapped_column(Date)
    works_to: Mapped[date] = mapped_column(Date)
    work_start: Mapped[str] = mapped_column(String(5))
    work_end: Mapped[str] = mapped_column(String(5))
    review_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    review_warned: Mapped[bool] = mapped_column(Boolean, default=False)
    review_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # result, checklist outcomes, by, at
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    deposit_cents: Mapped[int | None] = mapped_column(Integer)
    fee_cents: Mapped[int | None] = mapped_column(Integer)
    deposit_id: Mapped[str | None] = mapped_column(String(64))
    deposit_status: Mapped[str] = mapped_column(String(16), default="none")  # none, requested, paid, returned
    returned_cents: Mapped[int | None] = mapped_column(Integer)
    deductions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    complaints: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PermitFile(Base):
    __tablename__ = "decoration_files"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    permit_id: Mapped[str] = mapped_column(ForeignKey("decoration_permits.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(128))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WorkerPass(Base):
    """A contractor's worker's pass (出入证): valid for the works' dates while the works may go on."""

    __tablename__ = "decoration_passes"
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    permit_id: Mapped[str] = mapped_column(ForeignKey("decoration_permits.id"), index=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    id_last4: Mapped[str] = mapped_column(String(4))
    trade: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class Inspection(Base):
    __tablename__ = "decoration_inspections"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    permit_id: Mapped[str] = mapped_column(ForeignKey("decoration_permits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # requested, passed, violation
    checklist: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    work_order_id: Mapped[str | None] = mapped_column(String(64))
    inspector: Mapped[str | None] = mapped_column(String(128))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Violation(Base):
    __tablename__ = "decoration_violations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    permit_id: Mapped[str] = mapped_column(ForeignKey("decoration_permits.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    inspection_id: Mapped[str | None] = mapped_column(String(64))
    stop_order: Mapped[bool] = mapped_column(Boolean, default=False)
    fine_cents: Mapped[int | None] = mapped_column(Integer)
    fine_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- API models -----------------------------------------------------------------------------------

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CODE = r"^[a-z0-9_]{1,64}$"
PHONE_PATTERN = r"^\+?[0-9 -]{5,20}$"


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    label: str = Field(min_length=1, max_length=300)


class SettingsWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    deposit_cents: int = Field(ge=0, le=100_000_000)
    fee_mode: FeeMode
    fee_cents: int = Field(ge=0, le=100_000_000, description="The fixed fee, or the fee per m2 (fee_mode per_m2).")
    work_start: str = Field(pattern=HHMM, description="Site-local: noisy work from")
    work_end: str = Field(pattern=HHMM)
    max_workers: int = Field(default=20, ge=1, le=200)
    max_days: int = Field(default=90, ge=1, le=730)
    review_working_days: int = Field(default=2, ge=1, le=30)
    review_warning_hours: int = Field(default=4, ge=0, le=24 * 30)
    checklist: list[ChecklistItem] = Field(min_length=1, max_length=50)
    weekdays_off: list[int] = Field(default=[6, 7], max_length=7)
    holidays: list[InputDate] = Field(default=[], max_length=366)
    workdays: list[InputDate] = Field(default=[], max_length=366)

    @model_validator(mode="after")
    def _consistent(self) -> SettingsWrite:
        if self.work_end <= self.work_start:
            raise ValueError("work_end must be after work_start")
        if any(not 1 <= day <= 7 for day in self.weekdays_off):
            raise ValueError("weekdays_off are ISO weekdays 1 (Monday) to 7 (Sunday)")
        if len({item.code for item in self.checklist}) != len(self.checklist):
            raise ValueError("checklist codes must be unique")
        return self


class SettingsRead(SettingsWrite):
    site: str


class Contractor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: str = Field(min_length=1, max_length=200)
    licence_number: str = Field(min_length=1, max_length=64)
    manager_name: str = Field(min_length=1, max_length=120)
    manager_phone: str = Field(max_length=32, pattern=PHONE_PATTERN)


class Worker(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    id_last4: str = Field(pattern=r"^[0-9]{3}[0-9Xx]$", description="The last 4 characters of the ID card.")
    trade: str = Field(min_length=1, max_length=64)


class Hours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class PermitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str = Field(min_length=1, max_length=64)
    applicant: str = Field(default="owner", pattern=r"^(owner|contractor)$")
    party_id: str | None = Field(default=None, max_length=64, description="The owner (staff apply for one).")
    scope: list[str] = Field(min_length=1, max_length=30)
    description: str = Field(min_length=1, max_length=4000)
    contractor: Contractor
    workers: list[Worker] = Field(min_length=1, max_length=200)
    works_from: InputDate
    works_to: InputDate
    work_hours: Hours | None = Field(default=None, description="Within the site's hours; default: the site's.")

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: list[str]) -> list[str]:
        if any(not 1 <= len(item) <= 200 for item in value):
            raise ValueError("a scope item is 1 to 200 characters")
        return value


class CheckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    ok: bool
    note: str | None = Field(default=None, min_length=1, max_length=1000)


class ReviewCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: ReviewResult
    checklist: list[CheckOutcome] = Field(min_length=1, max_length=50)
    conditions: list[str] = Field(default=[], max_length=50)
    reasons: list[str] = Field(default=[], max_length=50)


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, min_length=1, max_length=2000)


class InspectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: InspectionKind = InspectionKind.routine
    due_at: InputDatetime | None = None
    note: str | None = Field(default=None, min_length=1, max_length=2000)


class ViolationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default=[], max_length=20, description="Keys of photos uploaded to the permit.")
    stop_order: bool = False
    fine_cents: int | None = Field(default=None, ge=1, le=100_000_000)
    fine_reason: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _fine(self) -> ViolationCreate:
        if self.fine_cents is not None and not self.fine_reason:
            raise ValueError("a fine needs fine_reason")
        return self


class ComplaintLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1, max_length=64)


class Deduction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: DeductionKind = DeductionKind.damage
    reason: str = Field(min_length=1, max_length=500)
    amount_cents: int = Field(ge=1, le=100_000_000)


class SettleCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deductions: list[Deduction] = Field(default=[], max_length=40)


class FileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    key: str
    purpose: str
    content_type: str
    size: int
    uploaded_at: datetime


class FileStored(BaseModel):
    key: str
    file_name: str  # read back at GET /decoration-permits/{permit_id}/files/{file_name}
    purpose: str
    content_type: str
    size: int


class PassRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: str
    name: str
    id_last4: str
    trade: str
    valid_from: date
    valid_to: date
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


class PassCheck(BaseModel):
    """What security sees at the gate: nothing else."""

    number: str
    valid: bool
    why_not: str | None = None
    unit: str
    name: str
    valid_from: date
    valid_to: date


class InspectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    status: str
    due_at: datetime
    note: str | None
    requested_by: str
    requested_at: datetime
    items: list[dict[str, Any]] = []
    work_order_id: str | None = None
    inspector: str | None = None
    completed_at: datetime | None = None


class ViolationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    description: str
    photos: list[str] = []
    inspection_id: str | None = None
    stop_order: bool
    fine_cents: int | None = None
    fine_reason: str | None = None
    recorded_by: str | None = None
    recorded_at: datetime


class PermitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    status: str
    allowed_actions: list[str] = []
    applicant: str
    applicant_party_id: str
    applied_by: str
    scope: list[str]
    description: str
    contractor: dict[str, Any]
    workers: list[dict[str, Any]]
    works_from: date
    works_to: date
    work_start: str
    work_end: str
    review_due_at: datetime
    review_warned: bool
    review_breached: bool
    review: dict[str, Any] | None = None
    conditions: list[str] = []
    reasons: list[str] = []
    deposit_cents: int | None = None
    fee_cents: int | None = None
    deposit_status: str
    returned_cents: int | None = None
    deductions: list[dict[str, Any]] = []
    complaints: list[dict[str, Any]] = []
    created_at: datetime
    updated_at: datetime


class PermitDetail(PermitRead):
    files: list[FileRead] = []
    passes: list[PassRead] = []
    inspections: list[InspectionRead] = []
    violations: list[ViolationRead] = []
