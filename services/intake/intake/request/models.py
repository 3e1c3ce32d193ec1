"""Requests raised at the front desk and the timeline of what every service did about them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import BigId, UtcDateTime
from pm_platform.envelope import InputDatetime
from pm_platform.subjects import check_token


class Kind(StrEnum):
    repair = "repair"
    complaint = "complaint"
    inquiry = "inquiry"
    suggestion = "suggestion"
    praise = "praise"
    emergency = "emergency"


class Channel(StrEnum):
    phone = "phone"
    visit = "visit"
    app = "app"
    patrol = "patrol"
    email = "email"
    messaging = "messaging"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class ComplaintClass(StrEnum):
    valid = "valid"  # the company failed: to the responsible department's supervisor
    help_seeking = "help_seeking"  # the communicative kinds: explain or help, and follow up
    inquiry = "inquiry"
    venting = "venting"


class Status(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    followed_up = "followed_up"
    closed = "closed"
    reopened = "reopened"
    cancelled = "cancelled"


# The request state machine: anything not listed here is an illegal transition (409).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.new: frozenset({Status.acknowledged, Status.in_progress, Status.resolved, Status.cancelled}),
    Status.acknowledged: frozenset({Status.in_progress, Status.resolved, Status.cancelled}),
    Status.in_progress: frozenset({Status.resolved, Status.cancelled}),
    Status.resolved: frozenset({Status.followed_up, Status.closed, Status.reopened}),
    Status.followed_up: frozenset({Status.closed, Status.reopened}),
    Status.reopened: frozenset({Status.in_progress, Status.resolved, Status.cancelled}),
    Status.closed: frozenset({Status.reopened}),
    Status.cancelled: frozenset(),
}


def can_transition(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


OPEN = frozenset({Status.new, Status.acknowledged, Status.in_progress, Status.reopened})
# No progress reply is owed once the work is done or the request withdrawn.
REPLY_SETTLED = frozenset({Status.resolved, Status.followed_up, Status.closed, Status.cancelled})


class Request(Base):
    __tablename__ = "requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    in_unit: Mapped[bool]
    reporter_party_id: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str] = mapped_column(String(120))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    appointment_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    appointment_end: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    building_id: Mapped[str | None] = mapped_column(String(64), index=True)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    complaint_class: Mapped[str | None] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64))  # the responsible department, once known
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    possible_duplicate_of: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[str | None] = mapped_column(String(64))
    incident_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ack_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reply_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    replied_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ack_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_breached: Mapped[bool] = mapped_column(Boolean, default=False)


class StatusChange(Base):
    """The request's status history (the reports count transitions from it)."""

    __tablename__ = "status_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class TimelineEntry(Base):
    """What any service did about a request or a unit, gathered from its events: one timeline per request, and
    the unit's timeline across its requests and its site procedures (a decoration permit, a move-in...), which
    name themselves in ``procedure`` and ``procedure_id`` and have no request."""

    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    procedure: Mapped[str | None] = mapped_column(String(32))
    procedure_id: Mapped[str | None] = mapped_column(String(64), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WorkFact(Base):
    """A fact about a request's work that its status depends on, from dispatch (a work order completed) or survey
    (that work order's follow-up skipped or completed). The two arrive on different streams in either order: a
    follow-up that arrives before its work order's completion waits here (``applied`` false) and is applied when
    the completion arrives, so the request ends in the same status whatever the order."""

    __tablename__ = "work_facts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    work_order_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # work_order_completed, followup_completed, followup_skipped
    event: Mapped[dict[str, Any]] = mapped_column(JSON)  # the whole envelope, to apply it as it came
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Reporter(BaseModel):
    party_id: str | None = None
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 -]{5,20}$")
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")


class Window(BaseModel):
    start: InputDatetime
    end: InputDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str
    kind: Kind
    channel: Channel = Channel.phone
    category: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    priority: Priority = Priority.normal
    description: str = Field(min_length=1, max_length=4000)
    unit_id: str | None = None
    location: str | None = Field(default=None, max_length=200)
    in_unit: bool = False
    reporter: Reporter
    appointment: Window | None = None
    building: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="The building's code, for a common-area request in one building.",
    )
    photos: list[str] = Field(default=[], max_length=20, description="References to stored photos (URLs or keys).")
    complaint_class: ComplaintClass | None = None

    @field_validator("site")
    @classmethod
    def _site_token(cls, value: str) -> str:
        return check_token("site", value)

    @model_validator(mode="after")
    def _where(self) -> RequestCreate:
        if self.unit_id is None and not self.location:
            raise ValueError("either unit_id or location is required")
        if self.in_unit and self.unit_id is None:
            raise ValueError("an in-unit request needs unit_id")
        return self

    @field_validator("photos")
    @classmethod
    def _photo_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not ref or len(ref) > 500 or any(c.isspace() for c in ref):
                raise ValueError("a photo reference is a non-empty string of at most 500 characters, no spaces")
        return value


class RequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    kind: str
    channel: str
    category: str
    priority: str
    status: str
    description: str
    unit_id: str | None
    location: str | None
    in_unit: bool
    reporter_name: str
    reporter_phone: str | None
    appointment_start: datetime | None
    appointment_end: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    building_id: str | None = None
    photos: list[str] = []
    complaint_class: str | None = None
    department: str | None = None
    escalated: bool = False
    reopen_count: int = 0
    cancel_reason: str | None = None
    possible_duplicate_of: str | None = None
    duplicate_of: str | None = None
    incident_id: str | None = None
    ack_due_at: datetime | None = None
    reply_due_at: datetime | None = None
    acknowledged_at: datetime | None = None
    replied_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    ack_breached: bool = False
    reply_breached: bool = False


class TimelineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    request_id: str | None = None
    procedure: str | None = None
    procedure_id: str | None = None
    event_type: str
    source: str
    summary: str
    occurred_at: datetime
    data: dict[str, Any]


class RequestDetail(RequestRead):
    timeline: list[TimelineRead]


class StatusCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    reason: str | None = Field(default=None, min_length=1, max_length=2000)


class ReplyCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=2000)
    channel: Channel = Channel.phone


class ClassifyCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    complaint_class: ComplaintClass
    department: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")


class LinkCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duplicate_of: str = Field(min_length=1, max_length=64)
    cancel: bool = Field(default=True, description="Cancel this request as a duplicate of the other.")
