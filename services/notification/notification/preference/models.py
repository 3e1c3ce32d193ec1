"""A party's preferences: channels, language, opt-outs of optional categories and quiet hours."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import OptionalUtcDatetime


class Channel(StrEnum):
    sms = "sms"
    email = "email"
    push = "push"  # the owner app
    messaging = "messaging"  # owner group / messaging account
    notice_board = "notice_board"  # a site's or building's board (broadcasts only)
    call_task = "call_task"  # a task for staff to phone the recipient


# Channels a party may choose for themselves (a notice board is not a party's channel, and call tasks are
# added by notification for people needing extra care).
PARTY_CHANNELS = (Channel.sms, Channel.email, Channel.push, Channel.messaging)


class Category(StrEnum):
    emergency = "emergency"  # goes out at once: no quiet hours, no opt-out, no throttle
    service = "service"  # service-critical: requests, work orders, charges, notices such as water cuts
    events = "events"  # optional: community events
    surveys = "surveys"  # optional: survey invitations
    staff = "staff"  # to staff on duty: no quiet hours, no opt-out


OPTIONAL_CATEGORIES = (Category.events, Category.surveys)


class Preference(Base):
    __tablename__ = "preferences"
    party_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    channels: Mapped[list[str] | None] = mapped_column(JSON)  # None: the default for the party's contacts
    language: Mapped[str | None] = mapped_column(String(16))  # None: the party's language
    opt_outs: Mapped[list[str]] = mapped_column(JSON, default=list)
    quiet_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # HH:MM site-local; None: the default
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PreferenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[Channel] | None = Field(default=None, description="In order; null: the default")
    language: str | None = Field(default=None, pattern=r"^(zh-CN|en)$")
    opt_outs: list[Category] = Field(default_factory=list, description="Only optional categories: events, surveys")
    quiet_hours: bool = True
    quiet_start: time | None = None
    quiet_end: time | None = None

    @field_validator("channels")
    @classmethod
    def _party_channels(cls, value: list[Channel] | None) -> list[Channel] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("at least one channel (service-critical messages cannot be turned off)")
        wrong = [c for c in value if c not in PARTY_CHANNELS]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} cannot be chosen; choose from {', '.join(PARTY_CHANNELS)}")
        return list(dict.fromkeys(value))

    @field_validator("opt_outs")
    @classmethod
    def _optional_only(cls, value: list[Category]) -> list[Category]:
        critical = [c for c in value if c not in OPTIONAL_CATEGORIES]
        if critical:
            raise ValueError(
                f"{', '.join(critical)} messages cannot be opted out of (only {', '.join(OPTIONAL_CATEGORIES)})"
            )
        return list(dict.fromkeys(value))


class PreferenceRead(BaseModel):
    """The effective preferences: what notification applies (defaults filled in)."""

    party_id: str
    site: str
    channels: list[str]
    language: str
    opt_outs: list[str]
    quiet_hours: bool
    quiet_start: str
    quiet_end: str
    timezone: str
    customised: bool
    updated_at: OptionalUtcDatetime = None

    @classmethod
    def of(cls, values: dict[str, Any]) -> PreferenceRead:
        return cls.model_validate(values)
