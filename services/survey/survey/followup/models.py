"""Follow-up visits (回访): one per completed work order or resolved complaint, a call task for an agent
or a message the owner answers; plus the slim copy of intake's requests they need (kind, category, who)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.db import BigId, UtcDateTime
from pm_platform.envelope import UtcDatetime
from survey.config.models import DEFAULTS
from survey.database import Base

# The default of the per-site setting (survey.config): how long after the work the follow-up is due.
FOLLOWUP_DUE_HOURS: int = DEFAULTS["followup_due_hours"]


class Status(StrEnum):
    scheduled = "scheduled"
    done = "done"
    unreachable = "unreachable"
    skipped = "skipped"  # by the site's policy (not sampled, already rated) or the fatigue budget


class Source(StrEnum):
    work_order = "work_order"
    complaint = "complaint"


class Outcome(StrEnum):
    satisfied = "satisfied"
    not_solved = "not_solved"
    low_score = "low_score"
    unreachable = "unreachable"


class SkipReason(StrEnum):
    policy_skip = "policy_skip"  # a 0% sample
    not_sampled = "not_sampled"
    already_rated = "already_rated"
    fatigue = "fatigue"


class RequestInfo(Base):
    """What survey knows of an intake request (from intake.request.created/status_changed)."""

    __tablename__ = "requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    party_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_site_status_due", "site", "status", "due_at"),
        Index("ix_follow_ups_party_status", "party_id", "status"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    work_order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    site: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    party_id: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default=Source.work_order)
    kind: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Set when the due time passed with nobody having called (the supervisor's worklist).
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    solved: Mapped[bool | None] = mapped_column(Boolean)
    score_overall: Mapped[int | None] = mapped_column(Integer)
    score_speed: Mapped[int | None] = mapped_column(Integer)
    score_attitude: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    reopen: Mapped[bool | None] = mapped_column(Boolean)
    answered_by: Mapped[str | None] = mapped_column(String(128))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The event that caused it (dispatch.workorder.completed.v1 or intake.request.status_changed.v1).
    source_event_id: Mapped[str] = mapped_column(String(64), unique=True)


class Attempt(Base):
    """An unanswered contact: a call nobody picked up, or a message left unanswered past its due time."""

    __tablename__ = "follow_up_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    followup_id: Mapped[str] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)


Score = Annotated[int, Field(ge=1, le=5)]


class Scores(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overall: Score
    speed: Score
    attitude: Score


class FollowUpAnswer(BaseModel):
    """The owner's answer: solved or not, scores 1-5 and a comment (by phone through an agent, or the owner)."""

    model_config = ConfigDict(extra="forbid")
    solved: bool
    scores: Scores | None = None
    comment: str | None = Field(None, max_length=2000)


class AttemptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


class FollowUpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    request_id: str
    work_order_id: str | None
    site: str
    unit_id: str | None
    party_id: str | None
    department: str | None
    source: str
    kind: str | None
    category: str | None
    method: str
    status: str
    skip_reason: str | None
    due_at: UtcDatetime
    overdue: bool
    attempts: int
    outcome: str | None
    solved: bool | None
    score_overall: int | None
    score_speed: int | None
    score_attitude: int | None
    comment: str | None
    reopen: bool | None
    answered_by: str | None
    completed_at: UtcDatetime | None
    created_at: UtcDatetime
