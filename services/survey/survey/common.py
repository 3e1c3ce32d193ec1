"""Small helpers the survey packages share: UTC handling and the roles of the survey endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_time(value: str) -> datetime:
    return utc(datetime.fromisoformat(value))


UtcDatetime = Annotated[datetime, AfterValidator(utc)]

# Who may do what (every endpoint also checks the site scope).
STAFF = ("agent", "supervisor", "manager", "head_office", "operator")
PLANNERS = ("supervisor", "manager", "head_office")
CALLERS = ("agent", "supervisor", "manager")
