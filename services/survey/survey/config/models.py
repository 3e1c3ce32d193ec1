"""Per-site survey settings and follow-up policies (per site and request category)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime
from survey.database import Base

# Defaults for a site without its own row (DOMAIN.md numbers; each site may change them).
DEFAULTS: dict[str, Any] = {
    "followup_due_hours": 24,  # the follow-up is due this long after the work was done
    "followup_max_attempts": 3,  # unanswered attempts before the owner is closed as unreachable
    "followup_retry_hours": 4,  # the next attempt is due this long after an unanswered one
    "low_score_threshold": 2,  # a score at or below it (1-5) reopens the request
    "fatigue_max_contacts": 3,  # at most this many follow-ups and surveys per party ...
    "fatigue_window_days": 30,  # ... within this many days
    "visits_per_manager_week": 2,  # home visits each manager makes per week
    "visits_per_household_year": 2,  # home visits each household receives per year
}
ANY_CATEGORY = "*"


class PolicyMode(StrEnum):
    always = "always"
    sample = "sample"
    skip_if_rated = "skip_if_rated"


class Method(StrEnum):
    call = "call"
    message = "message"


class SiteConfig(Base):
    __tablename__ = "site_configs"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    followup_due_hours: Mapped[int] = mapped_column(Integer)
    followup_max_attempts: Mapped[int] = mapped_column(Integer)
    followup_retry_hours: Mapped[int] = mapped_column(Integer)
    low_score_threshold: Mapped[int] = mapped_column(Integer)
    fatigue_max_contacts: Mapped[int] = mapped_column(Integer)
    fatigue_window_days: Mapped[int] = mapped_column(Integer)
    visits_per_manager_week: Mapped[int] = mapped_column(Integer)
    visits_per_household_year: Mapped[int] = mapped_column(Integer)
    # The site's managers (token subjects) who owe home visits; the coverage report lists each.
    managers: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FollowUpPolicy(Base):
    __tablename__ = "followup_policies"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)  # "*": the site's default
    mode: Mapped[str] = mapped_column(String(16))
    sample_percent: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SiteConfigRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    followup_due_hours: int
    followup_max_attempts: int
    followup_retry_hours: int
    low_score_threshold: int
    fatigue_max_contacts: int
    fatigue_window_days: int
    visits_per_manager_week: int
    visits_per_household_year: int
    managers: list[str]
    updated_at: UtcDatetime | None


class SiteConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    followup_due_hours: int | None = Field(None, ge=1, le=24 * 14)
    followup_max_attempts: int | None = Field(None, ge=1, le=10)
    followup_retry_hours: int | None = Field(None, ge=1, le=24 * 7)
    low_score_threshold: int | None = Field(None, ge=0, le=4)
    fatigue_max_contacts: int | None = Field(None, ge=1, le=100)
    fatigue_window_days: int | None = Field(None, ge=1, le=365)
    visits_per_manager_week: int | None = Field(None, ge=0, le=50)
    visits_per_household_year: int | None = Field(None, ge=0, le=52)
    managers: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] | None = None


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    category: str
    mode: PolicyMode
    sample_percent: int | None
    method: Method


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: PolicyMode
    sample_percent: int | None = Field(None, ge=0, le=100, validate_default=True)
    method: Method = Method.call

    @field_validator("sample_percent")
    @classmethod
    def _percent_for_samples(cls, value: int | None, info: ValidationInfo) -> int | None:
        mode = info.data.get("mode")
        if mode is PolicyMode.sample and value is None:
            raise ValueError("required when mode is sample")
        if mode is not PolicyMode.sample and value is not None:
            raise ValueError("only allowed when mode is sample")
        return value
