"""Messages to owners: recorded as ``queued`` in the transaction of the event that caused them, sent
afterwards by the sender job (see ``message.sender``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base

_MESSAGE_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:pm:notification:message")


class Status(StrEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"
    suppressed = "suppressed"


def message_id(source_event_id: str, template: str) -> str:
    """Deterministic: one event yields at most one message per template, whoever computes it."""
    return str(uuid.uuid5(_MESSAGE_IDS, f"{source_event_id}/{template}"))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_status_next_attempt", "status", "next_attempt_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(120))
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    # The event that caused the message, its correlation id and the trace context of its handling:
    # the notification.message.sent.v1 event carries them on.
    source_event_id: Mapped[str] = mapped_column(String(64), index=True)
    correlation_id: Mapped[str] = mapped_column(String(128))
    traceparent: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
OptionalUtcDatetime = Annotated[datetime | None, AfterValidator(_utc)]


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    request_id: str | None
    channel: str
    recipient: str
    template: str
    language: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    created_at: UtcDatetime
    sent_at: OptionalUtcDatetime
