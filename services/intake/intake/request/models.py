"""Requests raised at the front desk and the timeline of what every service did about them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import BigId
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
    appointment_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TimelineEntry(Base):
    """What any service did about a request, gathered from its events (one timeline per request)."""

    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reporter(BaseModel):
    party_id: str | None = None
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 -]{5,20}$")
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")


class Window(BaseModel):
    start: datetime
    end: datetime

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


class TimelineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    event_type: str
    source: str
    summary: str
    occurred_at: datetime
    data: dict[str, Any]


class RequestDetail(RequestRead):
    timeline: list[TimelineRead]


