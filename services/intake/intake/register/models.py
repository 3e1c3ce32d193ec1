"""What the front-desk registers share: each site's register rules, and the files they keep (signed
authorisations, signatures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.database import Base
from pm_platform.db import UtcDateTime


class ArrearsRule(StrEnum):
    """Whether a unit in arrears may still get a release pass for goods leaving the site."""

    allow = "allow"  # the agent sees the arrears, the pass is issued
    supervisor = "supervisor"  # refused to an agent; a supervisor or manager may issue it with a reason
    refuse = "refuse"  # refused until the arrears are paid


DEFAULT_ARREARS_RULE = ArrearsRule.supervisor
DEFAULT_PARCEL_REMINDER_DAYS = 3
# A parcel is reminded about at most this many times (every reminder period) before the desk deals with it.
MAX_PARCEL_REMINDERS = 3


class RegisterSettings(Base):
    """A site's rules for its registers; a site without a row has the defaults."""

    __tablename__ = "register_settings"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    release_in_arrears: Mapped[str] = mapped_column(String(16), default=DEFAULT_ARREARS_RULE)
    parcel_reminder_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_PARCEL_REMINDER_DAYS)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RegisterSettingsWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    release_in_arrears: ArrearsRule = DEFAULT_ARREARS_RULE
    parcel_reminder_days: int = Field(default=DEFAULT_PARCEL_REMINDER_DAYS, ge=1, le=60)


class RegisterSettingsRead(RegisterSettingsWrite):
    model_config = ConfigDict(from_attributes=True)
    site: str


@dataclass
class Listing:
    """The filters and the page every register listing takes (its query parameters)."""

    site: str | None
    unit_id: str | None
    limit: int
    offset: int


class FileStored(BaseModel):
    key: str  # what a register's command names (signature.image_key, document_key)
    url: str  # where it is read back: /register-files/{site}/{name}
    content_type: str
    size: int


class Signature(BaseModel):
    """Who signed for something: the name typed at the desk, and optionally their signature as an image
    (uploaded first through ``POST /register-files``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    image_key: str | None = Field(default=None, max_length=200)
