"""Incidents: many requests on one building and category within a window (a burst pipe, a power cut)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import UtcDateTime


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    building_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | closed
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_request_at: Mapped[datetime] = mapped_column(UtcDateTime())
    request_count: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(128))


class Broadcast(Base):
    """A message an agent asked notification to send to the units an incident affects."""

    __tablename__ = "incident_broadcasts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16))
    unit_count: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IncidentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    building_id: str
    category: str
    status: str
    opened_at: datetime
    last_request_at: datetime
    request_count: int
    closed_at: datetime | None
    closed_by: str | None


class BroadcastRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    incident_id: str
    message: str
    urgency: str
    unit_count: int
    requested_by: str
    requested_at: datetime


class BroadcastCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=1000)
    urgency: str = Field(default="normal", pattern=r"^(normal|emergency)$")
    unit_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=5000, description="Default: every unit of the incident's building."
    )
