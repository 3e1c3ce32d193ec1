"""Decoration inspections (装修巡查): a site inspection intake asked for, carried out as an engineering work order
(category decoration_inspection) with its checklist; the engineer completes it with every item's outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import OptionalUtcDatetime, UtcDatetime

CODE = r"^[a-z0-9_]{1,64}$"


class Inspection(Base):
    __tablename__ = "inspections"
    __table_args__ = (UniqueConstraint("site", "inspection_id", name="uq_inspections_site_inspection"),)
    work_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    inspection_id: Mapped[str] = mapped_column(String(64))
    permit_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # routine, recheck, completion
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{code, label}]
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    # The outcome: each item's, the photos, the engineer's note and the overall result.
    result: Mapped[str | None] = mapped_column(String(16))  # passed, violation
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    photos: Mapped[list[str] | None] = mapped_column(JSON)
    result_note: Mapped[str | None] = mapped_column(Text)
    inspector: Mapped[str | None] = mapped_column(String(128))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ItemOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE)
    ok: bool = Field(strict=True)
    note: str | None = Field(default=None, min_length=1, max_length=1000)


class InspectionResult(BaseModel):
    """Every checklist item's outcome (ok or not, with a note), photos of any violation, the engineer's note."""

    model_config = ConfigDict(extra="forbid")
    items: list[ItemOutcome] = Field(min_length=1, max_length=50)
    note: str | None = Field(default=None, min_length=1, max_length=2000)
    photos: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=20)


class ChecklistItem(BaseModel):
    code: str
    label: str


class InspectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    work_order_id: str
    inspection_id: str
    permit_id: str
    site: str
    unit_id: str
    kind: str
    checklist: list[ChecklistItem]
    note: str | None
    due_at: UtcDatetime
    requested_at: UtcDatetime
    result: str | None
    items: list[ItemOutcome] | None
    photos: list[str] | None
    result_note: str | None
    inspector: str | None
    completed_at: OptionalUtcDatetime
