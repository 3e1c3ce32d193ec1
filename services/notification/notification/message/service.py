"""Message use cases: queue a message for an event (inside the event's transaction), read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.contact.models import Contact
from notification.message.models import Message, Status, message_id
from notification.message.templates import language_of, ref, render
from pm_platform.auth import Principal
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import NotFound
from pm_platform.telemetry import current_traceparent

# What the embedded default sender (the file sink) records; a real sender sets its own when it sends.
DEFAULT_CHANNEL = "file"


def queue_message(session: AsyncSession, event: Envelope, contact: Contact, template: str,
                  **values: Any) -> Message:
    """Record a message to the contact as ``queued``; no I/O here, the sender job sends it after commit."""
    language = language_of(contact.language)
    now = utcnow()
    message = Message(
        id=message_id(event.id, template), site=event.site, request_id=contact.request_id, channel=DEFAULT_CHANNEL,
        recipient=contact.recipient, template=template, language=language,
        body=render(template, language, ref=ref(contact.request_id), **values), status=Status.queued,
        source_event_id=event.id, correlation_id=event.correlationid, traceparent=current_traceparent(),
        attempts=0, created_at=now, next_attempt_at=now,
    )
    session.add(message)
    return message


async def get_message(session: AsyncSession, principal: Principal, message_id: str) -> Message:
    message = await session.get(Message, message_id)
    if message is None:
        raise NotFound("message", message_id)
    principal.check_site(message.site)
    return message


async def list_messages(session: AsyncSession, principal: Principal, *, site: str | None, request_id: str | None,
                        limit: int, offset: int) -> tuple[Sequence[Message], int]:
    query = select(Message)
    if site:
        principal.check_site(site)
        query = query.where(Message.site == site)
    elif not principal.all_sites:
        query = query.where(Message.site.in_(principal.sites))
    if request_id:
        query = query.where(Message.request_id == request_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(Message.created_at.desc(), Message.id).limit(limit).offset(offset)
    return (await session.scalars(ordered)).all(), total
