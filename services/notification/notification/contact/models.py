"""Who notification can reach, as other services announced them (event-carried state: notification never asks
intake) plus the staff roster it keeps itself: parties and their units (from intake), the reporter of each
request, and the staff who receive time-limit and work-order messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.directory import PartyCopy, UnitCopy
from pm_platform.envelope import UtcDatetime


class Unit(UnitCopy, Base):
    """Slim copy of intake's unit: enough to target a building."""

    __tablename__ = "units"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Party(PartyCopy, Base):
    """Slim copy of intake's party (owner, tenant, family member): how to reach them."""

    __tablename__ = "parties"
    party_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class RequestContact(Base):
    """The reporter of a request, as intake announced it with ``intake.request.created.v1``."""

    __tablename__ = "request_contacts"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(64))
    party_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    # When the owner raised it: replies within the reply window are not held back by quiet hours.
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Counts reopenings, so that "done" messages are deduplicated per round of work, not forever.
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)


class StaffRole(StrEnum):
    supervisor = "supervisor"  # customer-service supervisor: time-limit warnings and breaches
    manager = "manager"  # service-center manager: breaches
    duty = "duty"  # a department's phone on duty: new work orders, its own time limits


class StaffMember(Base):
    __tablename__ = "staff"
    __table_args__ = (Index("ix_staff_site_role", "site", "role"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StaffWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    role: StaffRole
    department: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=200)
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    active: bool = True


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    role: str
    department: str | None
    name: str
    phone: str | None
    email: str | None
    language: str
    active: bool
    updated_at: UtcDatetime


class PartyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    party_id: str
    site: str
    unit_id: str
    role: str
    name: str
    phone: str | None
    email: str | None
    language: str
    active: bool
    updated_at: UtcDatetime

    @classmethod
    def of(cls, party: Any) -> PartyRead:
        return cls.model_validate(party)
