"""Follow-up visits (回访): one per completed work order, a call or a message to the owner."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from survey.database import Base

# How long after the work is done the owner is asked how it went (a setting in waiting: one value for now).
FOLLOWUP_DUE_HOURS = 24


class Method(StrEnum):
    call = "call"
    message = "message"


class Status(StrEnum):
    scheduled = "scheduled"
    done = "done"
    unreachable = "unreachable"


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_site_status_due", "site", "status", "due_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    work_order_id: Mapped[str] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The dispatch.workorder.completed.v1 event that caused it.
    source_event_id: Mapped[str] = mapped_column(String(64), unique=True)


def _utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    request_id: str
    work_order_id: str
    site: str
    unit_id: str | None
    department: str
    method: str
    status: str
    due_at: UtcDatetime
    created_at: UtcDatetime
