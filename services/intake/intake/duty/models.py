"""The duty log (值班记录) and shift handover (交接): each shift's contacts, and the open items handed on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import BigId, UtcDateTime
from pm_platform.envelope import InputDatetime


class DutyLogEntry(Base):
    __tablename__ = "duty_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # call | visit | patrol | note
    note: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Handover(Base):
    __tablename__ = "handovers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    from_agent: Mapped[str] = mapped_column(String(128))
    to_agent: Mapped[str] = mapped_column(String(128))
    shift_start: Mapped[datetime] = mapped_column(UtcDateTime())
    handed_over_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    notes: Mapped[str] = mapped_column(Text)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The incoming agent's acceptance: from then on the open items are theirs.
    accepted_by: Mapped[str | None] = mapped_column(String(128))
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DutyLogWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    kind: str = Field(default="note", pattern=r"^(call|visit|patrol|note)$")
    note: str = Field(min_length=1, max_length=4000)
    request_id: str | None = Field(default=None, max_length=64)
    unit_id: str | None = Field(default=None, max_length=64)


class DutyLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    site: str
    author: str
    kind: str
    note: str
    request_id: str | None
    unit_id: str | None
    at: datetime


class HandoverItemWrite(BaseModel):
    """The outgoing agent's word on one open request; anything left out is derived from the request."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1, max_length=64)
    next_step: str | None = Field(default=None, max_length=500)
    deadline: InputDatetime | None = None
    owner: str | None = Field(default=None, max_length=128)


class HandoverWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    to_agent: str = Field(min_length=1, max_length=128)
    notes: str = Field(default="", max_length=4000)
    shift_start: InputDatetime | None = Field(default=None, description="Default: the previous handover at the site.")
    items: list[HandoverItemWrite] = []


class HandoverRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    from_agent: str
    to_agent: str
    shift_start: datetime
    handed_over_at: datetime
    notes: str
    contacts: list[dict[str, Any]]
    items: list[dict[str, Any]]
    accepted_by: str | None = None
    accepted_at: datetime | None = None
