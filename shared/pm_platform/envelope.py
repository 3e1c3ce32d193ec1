"""The integration-event envelope: CloudEvents 1.0 attributes plus site, correlation, causation, trace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime counts as UTC (every time the platform stores is UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def optional_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time from an event or a file, as UTC."""
    return as_utc(datetime.fromisoformat(text))


# Pydantic fields that hold an instant, always answered in UTC.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
OptionalUtcDatetime = Annotated[datetime | None, AfterValidator(optional_utc)]


class Envelope(BaseModel):
    """One event as it travels (structured content mode: the whole envelope is the message body)."""

    model_config = ConfigDict(extra="forbid")

    specversion: str = "1.0"
    id: str = Field(default_factory=new_id)
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    dataschema: str
    site: str
    department: str | None = None
    correlationid: str
    causationid: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @property
    def event_type(self) -> str:
        """``intake.request.created.v1`` -> ``intake.request.created``."""
        return self.type.rsplit(".", 1)[0]

    @property
    def version(self) -> int:
        return int(self.type.rsplit(".v", 1)[1])

    @property
    def nats_subject(self) -> str:
        parts = [self.type, self.site]
        if self.department:
            parts.append(self.department)
        return ".".join(parts)

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()
