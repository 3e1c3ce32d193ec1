"""Messages: one row per (notice, recipient, channel), recorded in the transaction of the event or command
that caused it as ``queued`` (or ``suppressed`` with the reason), sent afterwards by the sender job."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import OptionalUtcDatetime, UtcDatetime

_MESSAGE_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:pm:notification:message")


class Status(StrEnum):
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    suppressed = "suppressed"


class Reason(StrEnum):
    """Why a message was suppressed (or, for quiet_hours on a queued message, deferred)."""

    quiet_hours = "quiet_hours"  # it would have gone out after it stopped making sense
    opt_out = "opt_out"
    duplicate = "duplicate"
    throttled = "throttled"
    no_address = "no_address"  # the recipient has no address for the channel
    inactive = "inactive"  # the party moved out
    expired = "expired"  # still unsent when it stopped making sense (retries ran past expires_at)


def message_id(source_event_id: str, template: str, recipient: str = "", channel: str = "") -> str:
    """Deterministic: one event yields at most one message per template, recipient and channel."""
    suffix = f"/{recipient}/{channel}" if recipient or channel else ""
    return str(uuid.uuid5(_MESSAGE_IDS, f"{source_event_id}/{template}{suffix}"))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_messages_party_created", "party_id", "created_at"),
        Index("ix_messages_broadcast_status", "broadcast_id", "status"),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    audience: Mapped[str] = mapped_column(String(8))  # owner | staff | board
    party_id: Mapped[str | None] = mapped_column(String(64))  # the owner party or staff member, when known
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    broadcast_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))  # the address on that channel
    recipient_name: Mapped[str | None] = mapped_column(String(120))
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(16))
    # Unique while it holds: a second message with the same key is recorded as a suppressed duplicate,
    # with no key, pointing at the first.
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(64))
    # The event that caused the message, its correlation id and the trace context of its handling:
    # the notification.message.sent.v1 event carries them on.
    source_event_id: Mapped[str] = mapped_column(String(64), index=True)
    correlation_id: Mapped[str] = mapped_column(String(128))
    traceparent: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deferred_until: Mapped[datetime | None] = mapped_column(UtcDateTime())  # held by quiet hours
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # pointless after this
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    audience: str
    party_id: str | None
    request_id: str | None
    broadcast_id: str | None
    category: str
    channel: str
    recipient: str
    template: str
    language: str
    subject: str | None
    body: str
    status: str
    reason: str | None
    duplicate_of: str | None
    attempts: int
    last_error: str | None
    created_at: UtcDatetime
    next_attempt_at: UtcDatetime
    deferred_until: OptionalUtcDatetime
    sent_at: OptionalUtcDatetime
    delivered_at: OptionalUtcDatetime


class ReceiptWrite(BaseModel):
    """A gateway's delivery receipt for a sent message."""

    model_config = ConfigDict(extra="forbid")
    status: Status
    error: str | None = None
