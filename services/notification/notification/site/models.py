"""The sites notification knows, as intake announced them (intake.site.upserted.v1): the name messages and
notices sign with and the site's time zone."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import UtcDatetime


class Site(Base):
    """Slim copy of intake's site."""

    __tablename__ = "sites"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    service_center: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    site: str
    name: str
    kind: str
    service_center: str
    timezone: str
    updated_at: UtcDatetime
