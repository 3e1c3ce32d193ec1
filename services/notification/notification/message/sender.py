"""Sending queued messages: the background job that drives the channels' senders.

Handlers and commands only record messages as ``queued`` in their own transaction. The sender job picks the
queued messages that are due, sends each through its channel's sender and then, in one transaction per
batch, marks them sent (or delivered, or failed) and writes ``notification.message.sent.v1`` to the outbox.
A crash between the send and that commit leaves the messages queued, so they are sent again: senders are
idempotent per message id (the file sink skips ids it holds, the gateway gets the id as Idempotency-Key),
which makes the send effectively exactly-once where the transport allows it.

A transient failure is retried with an exponential backoff (``send_retry_base_seconds`` doubling up to
``send_retry_max_seconds``), at most ``send_max_attempts`` times; a retry that would fall into the owner's
quiet hours waits for their end. A permanent failure (the gateway refused the message) is final at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.broadcast.service import complete_if_final
from notification.config import NotificationSettings, config_of
from notification.contact.models import Party
from notification.message.channels import Channels, PermanentSendError, Sender
from notification.message.models import Message, Reason, Status
from notification.message.service import announce
from notification.preference.models import Category
from notification.preference.service import effective_for
from notification.times import quiet_until
from pm_platform.db import READ_ONLY
from pm_platform.envelope import as_utc, utcnow
from pm_platform.runtime import Runtime
from pm_platform.telemetry import attached, context_from_traceparent, span_context_of
from pm_platform.uow import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("notification")


@dataclass(frozen=True)
class Attempt:
    status: Status | None  # sent or delivered; None when it failed
    error: str | None = None
    permanent: bool = False


async def send_pending(
    runtime: Runtime, channels: Channels, *, now: datetime | None = None, batch: int | None = None
) -> int:
    """One pass: send the queued messages that are due; return how many reached a final state."""
    config = config_of(runtime)
    now = now or utcnow()
    # The poll runs every few hundred ms: keep its SQL out of the traces (sending is traced below), and
    # read without taking SQLite's write lock from the services' writers.
    with suppress_instrumentation():
        async with runtime.sessionmaker() as session:
            await session.connection(execution_options=READ_ONLY)
            query = (
                select(Message)
                .where(Message.status == Status.queued, Message.next_attempt_at <= now)
                .order_by(Message.next_attempt_at, Message.id)
                .limit(batch or config.send_batch)
            )
            queued: Sequence[Message] = (await session.scalars(query)).all()
    if not queued:
        return 0
    attempts: dict[str, Attempt] = {}
    expired = {m.id for m in queued if m.expires_at is not None and as_utc(m.expires_at) < now}
    by_sender: dict[int, tuple[Sender, list[Message]]] = {}
    for message in queued:
        if message.id not in expired:
            sender = channels.for_channel(message.channel)
            by_sender.setdefault(id(sender), (sender, []))[1].append(message)
    for sender, messages in by_sender.values():
        attempts.update(await _send_all(sender, messages))
    return await _record(runtime, config, queued, attempts, expired, now)


async def _send_all(sender: Sender, messages: list[Message]) -> dict[str, Attempt]:
    # Each message is sent inside the trace of the event that queued it (the owner's request's trace).
    send_many = getattr(sender, "send_many", None)
    if send_many is not None:
        spans = [_send_span(sender, message) for message in messages]
        try:
            await send_many(messages)
            return {m.id: Attempt(Status.sent) for m in messages}
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
            return {m.id: _failure(exc, m) for m in messages}
        finally:
            for span in spans:
                span.end()
    limit = asyncio.Semaphore(max(1, sender.concurrency))

    async def one(message: Message) -> tuple[str, Attempt]:
        async with limit:
            with trace.use_span(_send_span(sender, message), end_on_exit=True) as span:
                try:
                    return message.id, Attempt(await sender.send(message))
                except Exception as exc:
                    span.record_exception(exc)
                    return message.id, _failure(exc, message)

    return dict(await asyncio.gather(*(one(m) for m in messages)))


def _send_span(sender: Sender, message: Message) -> trace.Span:
    return tracer.start_span(
        f"send {message.template}",
        context=context_from_traceparent(message.traceparent),
        attributes={
            "pm.message_id": message.id,
            "pm.channel": message.channel,
            "pm.transport": sender.transport,
            "pm.correlation_id": message.correlation_id,
        },
    )


def _failure(exc: Exception, message: Message) -> Attempt:
    error = f"{type(exc).__name__}: {exc}"
    log.warning(
        "sending message %s on %s failed (attempt %d): %s", message.id, message.channel, message.attempts + 1, error
    )
    return Attempt(None, error, isinstance(exc, PermanentSendError))


async def _record(
    runtime: Runtime,
    config: NotificationSettings,
    queued: Sequence[Message],
    attempts: dict[str, Attempt],
    expired: set[str],
    now: datetime,
) -> int:
    done = 0
    # One transaction records a pass over several requests' messages: its span links to each message's trace,
    # and each message's event is written inside that message's trace.
    links = [trace.Link(c) for c in (span_context_of(m.traceparent) for m in queued) if c is not None]
    with tracer.start_as_current_span(f"record {len(queued)} sends", links=links):
        async with runtime.uow() as uow:
            ids = [m.id for m in queued]
            rows = (
                await uow.session.scalars(
                    select(Message).where(Message.id.in_(ids), Message.status == Status.queued).with_for_update()
                )
            ).all()
            for message in rows:  # another replica may have finished some meanwhile: those are not in rows
                attempt = None if message.id in expired else attempts[message.id]
                with attached(context_from_traceparent(message.traceparent)):
                    done += await _record_one(uow, config, message, attempt, now)
            await complete_if_final(
                uow.session, {m.broadcast_id for m in rows if m.broadcast_id and m.status != Status.queued}
            )
            await uow.commit()
    return done


async def _record_one(
    uow: UnitOfWork, config: NotificationSettings, message: Message, attempt: Attempt | None, now: datetime
) -> int:
    """Record one message's attempt (None: it expired unsent); 1 when it reached a final state."""
    if attempt is None:
        message.status, message.reason, message.finished_at = Status.suppressed, Reason.expired, now
        announce(uow, message, now)
        return 1
    message.attempts += 1
    if attempt.status is not None:
        message.status, message.sent_at, message.last_error = attempt.status, now, None
        message.finished_at = now
        if attempt.status == Status.delivered:
            message.delivered_at = now
        announce(uow, message, now)
        return 1
    message.last_error = attempt.error
    if attempt.permanent or message.attempts >= config.send_max_attempts:
        message.status, message.finished_at = Status.failed, now
        announce(uow, message, now)
        return 1
    delay = min(config.send_retry_max_seconds, config.send_retry_base_seconds * 2 ** (message.attempts - 1))
    message.next_attempt_at = await _not_in_quiet_hours(uow.session, config, message, now + timedelta(seconds=delay))
    return 0


async def _not_in_quiet_hours(
    session: AsyncSession, config: NotificationSettings, message: Message, at: datetime
) -> datetime:
    """A retry of a routine owner message that would land in the owner's quiet hours waits for their end."""
    if message.audience != "owner" or message.category == Category.emergency:
        return at
    quiet = (config.quiet_start, config.quiet_end)
    if message.party_id:
        party = await session.get(Party, message.party_id)
        if party is not None:
            prefs = await effective_for(session, party, config)
            if prefs.quiet is None:
                return at
            quiet = prefs.quiet
    until = quiet_until(at, *quiet, config.site_timezone)
    return until if until is not None else at


def sender_job(runtime: Runtime, channels: Channels) -> Callable[[], Coroutine[Any, Any, None]]:
    """The loop around ``send_pending``, for ``runtime.background``."""

    async def notification_sender() -> None:
        try:
            while True:
                try:
                    count = await send_pending(runtime, channels)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("notification sender pass failed")
                    count = 0
                if count == 0:
                    await asyncio.sleep(config_of(runtime).send_idle_seconds)
        finally:
            await channels.aclose()

    return notification_sender
