"""Home visits (走访): managers visit households (at least N a week each; every household M times a year)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.db import UtcDateTime
from pm_platform.envelope import InputDatetime, UtcDatetime
from survey.database import Base
from survey.questionnaire.models import Token


class RequestKind(StrEnum):
    repair = "repair"
    complaint = "complaint"
    inquiry = "inquiry"
    suggestion = "suggestion"
    praise = "praise"
    emergency = "emergency"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Visit(Base):
    __tablename__ = "home_visits"
    __table_args__ = (
        Index("ix_home_visits_site_at", "site", "visited_at"),
        Index("ix_home_visits_unit_at", "unit_id", "visited_at"),
        Index("ix_home_visits_manager_at", "manager", "visited_at"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[str | None] = mapped_column(String(64))
    manager: Mapped[str] = mapped_column(String(128))
    visited_at: Mapped[datetime] = mapped_column(UtcDateTime())
    notes: Mapped[str] = mapped_column(Text)
    raise_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PlannedVisit(Base):
    """A home visit someone asked for (billing's dunning ladder reached its visit step for a unit in arrears): open
    until a visit to the unit is recorded."""

    __tablename__ = "planned_visits"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    party_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # arrears
    detail: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[str] = mapped_column(String(64), unique=True)  # the dunning step: one plan per step
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    visit_id: Mapped[str | None] = mapped_column(String(64))  # the visit that answered it
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PlannedVisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    party_id: str | None
    reason: str
    detail: str
    planned_at: UtcDatetime
    visit_id: str | None
    closed_at: UtcDatetime | None


class RaiseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: RequestKind
    category: Token
    description: str = Field(min_length=1, max_length=4000)
    priority: Priority = Priority.normal
    in_unit: bool = False


class VisitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: Token
    unit_id: str = Field(min_length=1, max_length=64)
    party_id: str | None = Field(None, min_length=1, max_length=64)
    visited_at: InputDatetime | None = None  # now when left out
    notes: str = Field(min_length=1, max_length=4000)
    raise_request: RaiseRequest | None = None


class VisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    unit_id: str
    party_id: str | None
    manager: str
    visited_at: UtcDatetime
    notes: str
    raise_request: dict[str, Any] | None
    recorded_at: UtcDatetime


class ManagerCoverage(BaseModel):
    manager: str
    visits_this_week: int
    target: int
    behind: bool


class HouseholdCoverage(BaseModel):
    unit_id: str
    building: str
    visits_this_year: int
    expected_by_now: int
    last_visited_at: UtcDatetime | None


class Coverage(BaseModel):
    site: str
    on: date
    week_start: date
    year: int
    managers: list[ManagerCoverage]
    households_total: int
    households_on_track: int
    households_target_per_year: int
    households_behind: list[HouseholdCoverage]  # fewest visits and longest unvisited first: the next to visit
