"""Broadcasts: one notice to a site, some of its buildings or a list of units, fanned out per recipient."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDatetime, as_utc, optional_utc


class Kind(StrEnum):
    water_cut = "water_cut"
    power_cut = "power_cut"
    gas_cut = "gas_cut"
    storm = "storm"
    safety = "safety"
    community_event = "community_event"  # optional for owners: they may opt out of events
    notice = "notice"
    incident = "incident"  # from intake.incident.broadcast.v1


class Urgency(StrEnum):
    normal = "normal"
    emergency = "emergency"


class State(StrEnum):
    scheduled = "scheduled"  # waiting for its timer
    started = "started"  # fanned out: per-recipient events published
    completed = "completed"  # every recipient's messages are in a final state
    cancelled = "cancelled"


class Broadcast(Base):
    __tablename__ = "broadcasts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))  # the incident's category, or the kind
    urgency: Mapped[str] = mapped_column(String(16))
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # by language
    text: Mapped[dict[str, str]] = mapped_column(JSON)  # by language
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    notice_board: Mapped[bool] = mapped_column(default=True)
    incident_id: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(128))
    correlation_id: Mapped[str] = mapped_column(String(128))
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class BroadcastCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: Code
    kind: Kind
    urgency: Urgency = Urgency.normal
    title: str = Field(min_length=1, max_length=120)
    message: str = Field(min_length=1, max_length=1000)
    # Texts in other languages ({"en": "..."}); recipients get their language, else ``message``.
    translations: dict[str, Annotated[str, Field(min_length=1, max_length=1000)]] = Field(default_factory=dict)
    title_translations: dict[str, Annotated[str, Field(min_length=1, max_length=120)]] = Field(default_factory=dict)
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$", description="The language of title/message")
    buildings: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default_factory=list)
    unit_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list)
    scheduled_at: InputDatetime | None = Field(default=None, description="Absent or past: at once")
    expires_at: InputDatetime | None = Field(default=None, description="Not sent (suppressed) after this")
    notice_board: bool = True
    dedupe_key: str | None = Field(
        default=None, min_length=1, max_length=100, description="The same key twice never reaches a party twice"
    )

    @model_validator(mode="after")
    def _check(self) -> BroadcastCreate:
        if self.buildings and self.unit_ids:
            raise ValueError("target buildings or units, not both")
        unknown = set(self.translations) | set(self.title_translations)
        if unknown - {"zh-CN", "en"}:
            raise ValueError(f"translations: unknown languages {sorted(unknown - {'zh-CN', 'en'})}")
        if self.scheduled_at is not None and self.scheduled_at.tzinfo is None:
            raise ValueError("scheduled_at needs a time zone")
        if self.expires_at is not None:
            if self.expires_at.tzinfo is None:
                raise ValueError("expires_at needs a time zone")
            if self.scheduled_at is not None and self.expires_at <= self.scheduled_at:
                raise ValueError("expires_at must be after scheduled_at")
        return self


class Progress(BaseModel):
    recipients: int = Field(description="Parties the broadcast was fanned out to")
    reached: int = Field(description="Recipients whose messages are recorded")
    messages: int
    by_status: dict[str, int]
    suppressed_by_reason: dict[str, int]
    final: bool = Field(description="Every recipient's messages are in a final state")


class BroadcastRead(BaseModel):
    id: str
    site: str
    kind: str
    category: str
    urgency: str
    title: dict[str, str]
    message: dict[str, str]
    buildings: list[str]
    unit_ids: list[str]
    notice_board: bool
    incident_id: str | None
    state: str
    requested_by: str
    scheduled_at: Annotated[datetime | None, AfterValidator(optional_utc)]
    expires_at: Annotated[datetime | None, AfterValidator(optional_utc)]
    started_at: Annotated[datetime | None, AfterValidator(optional_utc)]
    created_at: Annotated[datetime, AfterValidator(as_utc)]
    progress: Progress

    @classmethod
    def of(cls, broadcast: Broadcast, progress: Progress) -> BroadcastRead:
        fields: dict[str, Any] = {
            c: getattr(broadcast, c)
            for c in (
                "id",
                "site",
                "kind",
                "category",
                "urgency",
                "title",
                "buildings",
                "unit_ids",
                "notice_board",
                "incident_id",
                "state",
                "requested_by",
                "scheduled_at",
                "expires_at",
                "started_at",
                "created_at",
            )
        }
        if progress.final:  # said as it is even before the sender's transaction that completes it commits
            fields["state"] = State.completed.value
        return cls.model_validate({**fields, "message": broadcast.text, "progress": progress})
