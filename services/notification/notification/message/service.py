"""Message use cases: decide and record the messages of a notice (inside the transaction of the event or
command that caused it), announce outcomes, read them.

The decision per (recipient, channel), in order: no address -> suppressed(no_address); an optional category
the recipient opted out of -> suppressed(opt_out); a dedupe key already used -> suppressed(duplicate); over
the per-party throttle -> suppressed(throttled) for an optional category, and deferred past the window for any
other (it cannot be opted out of, so it is never dropped); inside the recipient's quiet hours -> deferred to
the end of them (the queued row's ``next_attempt_at`` is its durable timer), or suppressed(quiet_hours) when
the message would be stale by then. Emergencies skip opt-out, throttle and quiet hours; staff messages skip opt-out and
quiet hours (staff on duty); replies within the reply window of an owner's own request skip quiet hours.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.config import NotificationSettings, config_of
from notification.contact.models import Party, RequestContact, StaffMember
from notification.message.models import Message, Reason, Status, message_id
from notification.preference.models import OPTIONAL_CATEGORIES, Category, Channel
from notification.preference.service import default_channels, effective_for
from notification.template.defaults import language_of
from notification.template.service import render
from notification.times import quiet_until
from pm_events.notification import MessageSent
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import as_utc, utcnow
from pm_platform.errors import Conflict, NotFound
from pm_platform.telemetry import current_traceparent
from pm_platform.uow import UnitOfWork


@dataclass(frozen=True)
class Recipient:
    audience: str  # owner | staff | board
    key: str  # who, for dedupe and throttle: a party id, a staff id or an address
    name: str
    language: str
    channels: tuple[tuple[str, str | None], ...]  # (channel, address on it or None)
    party_id: str | None = None
    opt_outs: frozenset[str] = frozenset()
    quiet: tuple[time, time] | None = None
    extra_care: bool = False
    phone: str | None = None
    inactive: bool = False  # moved out: recorded as suppressed(inactive)


@dataclass
class Notice:
    """What to tell: a template with its values, why (the source event) and how it may be held back."""

    template: str
    category: Category
    site: str
    source_event_id: str
    correlation_id: str
    values: dict[str, Any] = field(default_factory=dict)
    # Values that depend on the recipient's language (label tables, broadcast texts by language).
    localised: dict[str, dict[str, str]] = field(default_factory=dict)
    request_id: str | None = None
    broadcast_id: str | None = None
    dedupe: str | None = None  # the semantic key; the recipient and the channel are appended
    expires_at: datetime | None = None
    conversation_at: datetime | None = None  # the owner's own request: the reply window starts here


def _address(channel: str, phone: str | None, email: str | None, party_id: str | None) -> str | None:
    if channel in (Channel.sms, Channel.call_task):
        return phone
    if channel == Channel.email:
        return email
    return party_id  # push and messaging reach the party's app / messaging account


async def party_recipient(session: AsyncSession, party: Party, config: NotificationSettings) -> Recipient:
    prefs = await effective_for(session, party, config)
    channels = tuple((c, _address(c, party.phone, party.email, party.party_id)) for c in prefs.channels)
    return Recipient(
        audience="owner",
        key=party.party_id,
        name=party.name,
        language=prefs.language,
        channels=channels or ((Channel.sms.value, None),),
        party_id=party.party_id,
        opt_outs=prefs.opt_outs,
        quiet=prefs.quiet,
        extra_care=bool(party.extra_care),
        phone=party.phone,
    )


async def reporter_recipient(session: AsyncSession, contact: RequestContact, config: NotificationSettings) -> Recipient:
    """The party who reported the request when notification knows them, else the reporter as recorded."""
    if contact.party_id:
        party = await session.get(Party, contact.party_id)
        if party is not None:
            return await party_recipient(session, party, config)
    channels = default_channels(contact.phone, None)
    return Recipient(
        audience="owner",
        key=contact.phone or f"request:{contact.request_id}",
        name=contact.name,
        language=language_of(contact.language),
        channels=tuple((c, contact.phone) for c in channels) or ((Channel.sms.value, None),),
        party_id=contact.party_id,
        quiet=(config.quiet_start, config.quiet_end),
        phone=contact.phone,
    )


def staff_recipient(member: StaffMember) -> Recipient:
    channels = default_channels(member.phone, member.email)
    return Recipient(
        audience="staff",
        key=member.id,
        name=member.name,
        language=language_of(member.language),
        channels=tuple((c, _address(c, member.phone, member.email, None)) for c in channels)
        or ((Channel.sms.value, None),),
        party_id=member.id,
        phone=member.phone,
    )


async def tell_parties(uow: UnitOfWork, notice: Notice, parties: Sequence[Party]) -> None:
    """``notice`` to each of ``parties`` on their own channels, language and quiet hours."""
    config = config_of(uow.runtime)
    for party in parties:
        await notify(uow, notice, await party_recipient(uow.session, party, config))


async def notify(uow: UnitOfWork, notice: Notice, recipient: Recipient, now: datetime | None = None) -> list[Message]:
    """Record the messages of ``notice`` to ``recipient``, one per channel, each queued or suppressed."""
    config = config_of(uow.runtime)
    now = now or utcnow()
    values = dict(notice.values)
    for name, by_language in notice.localised.items():
        values[name] = (
            by_language.get(recipient.language) or by_language.get("zh-CN") or next(iter(by_language.values()), "")
        )
    rendered = await render(uow.session, notice.site, notice.template, recipient.language, values)
    traceparent = current_traceparent()
    messages = []
    for channel, address in recipient.channels:
        message = Message(
            id=message_id(notice.source_event_id, notice.template, recipient.key, channel),
            site=notice.site,
            audience=recipient.audience,
            party_id=recipient.party_id,
            request_id=notice.request_id,
            broadcast_id=notice.broadcast_id,
            category=notice.category.value,
            channel=channel,
            recipient=address or recipient.name,
            recipient_name=recipient.name,
            template=notice.template,
            language=recipient.language,
            subject=rendered.subject if channel == Channel.email else None,
            body=rendered.body,
            status=Status.queued.value,
            source_event_id=notice.source_event_id,
            correlation_id=notice.correlation_id,
            traceparent=traceparent,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            expires_at=notice.expires_at,
        )
        reason = await _decide(uow.session, config, notice, recipient, message, address, now)
        uow.session.add(message)
        if reason is not None:
            message.status, message.reason, message.finished_at = Status.suppressed.value, reason.value, now
            announce(uow, message, now)
        messages.append(message)
    return messages


async def _decide(
    session: AsyncSession,
    config: NotificationSettings,
    notice: Notice,
    recipient: Recipient,
    message: Message,
    address: str | None,
    now: datetime,
) -> Reason | None:
    category = notice.category
    if recipient.inactive:
        return Reason.inactive
    if address is None:
        return Reason.no_address
    if category in OPTIONAL_CATEGORIES and category.value in recipient.opt_outs:
        return Reason.opt_out
    throttled = recipient.audience == "owner" and category != Category.emergency
    key = f"{notice.dedupe}|{recipient.key}|{message.channel}" if notice.dedupe else None
    first, recent = await _seen(session, config, recipient, message.channel, key, now, count=throttled)
    if first is not None:
        message.duplicate_of = first
        return Reason.duplicate
    message.dedupe_key = key
    if not throttled:
        return None
    start = now
    if recent >= config.throttle_limit:
        if category in OPTIONAL_CATEGORIES:
            return Reason.throttled
        # What the owner cannot opt out of (a water cut, a charge) is never dropped: it waits out the window.
        start = now + timedelta(minutes=config.throttle_window_minutes)
        message.deferred_until = message.next_attempt_at = start
    in_conversation = notice.conversation_at is not None and now - as_utc(notice.conversation_at) <= timedelta(
        minutes=config.reply_window_minutes
    )
    if recipient.quiet is not None and not in_conversation:
        until = quiet_until(start, *recipient.quiet, config.site_timezone)
        if until is not None:
            if notice.expires_at is not None and until > as_utc(notice.expires_at):
                return Reason.quiet_hours
            message.deferred_until = message.next_attempt_at = until
    return None


_UNTHROTTLED = (Category.emergency.value, Category.staff.value)


def _same_recipient(message: Message, recipient: Recipient) -> bool:
    return message.party_id == recipient.party_id if recipient.party_id else message.recipient == recipient.key


async def _seen(
    session: AsyncSession,
    config: NotificationSettings,
    recipient: Recipient,
    channel: str,
    key: str | None,
    now: datetime,
    *,
    count: bool,
) -> tuple[str | None, int]:
    """The message already holding dedupe ``key``, and how many messages the recipient got on ``channel``
    within the throttle window: the flushed ones from the database in one round trip, plus the ones this
    transaction added and has not flushed yet (it does not flush for this: a consumer's batch inserts its
    messages together at commit)."""
    since = now - timedelta(minutes=config.throttle_window_minutes)
    pending = [m for m in session.new if isinstance(m, Message)]
    first = next((m.id for m in pending if key is not None and m.dedupe_key == key), None)
    ask_key = key is not None and first is None
    recent = 0
    if ask_key or count:
        statement = _seen_statement(ask_key, count, by_party=recipient.party_id is not None)
        parameters = {"key": key, "who": recipient.party_id or recipient.key, "channel": channel, "since": since}
        with session.no_autoflush:
            values = list((await session.execute(statement, parameters)).one())
        if ask_key:
            first = values.pop(0)
        if count:
            recent = int(values.pop(0) or 0)
    if count:
        recent += sum(
            1
            for m in pending
            if m.channel == channel
            and m.status != Status.suppressed
            and m.category not in _UNTHROTTLED
            and as_utc(m.created_at) >= since
            and _same_recipient(m, recipient)
        )
    return first, recent


@functools.cache
def _seen_statement(ask_key: bool, count: bool, *, by_party: bool) -> Select[Any]:
    """The query of ``_seen``, built once per shape with bound parameters: SQLAlchemy then reuses the statement's
    cache key and compiled form, where building it per recipient cost a sixth of a broadcast's CPU."""
    columns: list[Any] = []
    if ask_key:
        columns.append(select(Message.id).where(Message.dedupe_key == bindparam("key")).scalar_subquery())
    if count:
        who = Message.party_id if by_party else Message.recipient
        columns.append(
            select(func.count())
            .select_from(Message)
            .where(
                who == bindparam("who"),
                Message.channel == bindparam("channel"),
                Message.created_at >= bindparam("since", type_=Message.created_at.type),
                Message.status != Status.suppressed.value,
                Message.category.notin_(_UNTHROTTLED),
            )
            .scalar_subquery()
        )
    return select(*columns)


def announce(uow: UnitOfWork, message: Message, at: datetime) -> None:
    """``notification.message.sent.v1`` for a message that reached a final state (or was delivered)."""
    # The event that caused the message caused this one too.
    uow.emit(
        MessageSent(
            message_id=message.id,
            site=message.site,
            channel=message.channel,
            recipient=message.recipient,
            template=message.template,
            request_id=message.request_id,
            status=message.status,
            sent_at=at.isoformat(),
            audience=message.audience,
            category=message.category,
            party_id=message.party_id,
            broadcast_id=message.broadcast_id,
            reason=message.reason,
            attempts=message.attempts,
        ),
        subject=message.id,
        site=message.site,
        correlation_id=message.correlation_id,
        causation_id=message.source_event_id,
    )


async def record_receipt(
    uow: UnitOfWork, principal: Principal, message_id_: str, status: Status, error: str | None
) -> Message:
    """A gateway's delivery receipt: a sent message is delivered, or failed after all."""
    message = await get_in_scope(uow.session, Message, message_id_, principal, what="message")
    if status not in (Status.delivered, Status.failed):
        raise Conflict(f"a receipt reports delivered or failed, not {status}", field="status")
    if message.status == status:
        return message  # the gateway repeated itself
    if message.status != Status.sent:
        raise Conflict(f"message {message.id} is {message.status}; only a sent message takes a receipt")
    now = utcnow()
    message.status = status.value
    if status == Status.delivered:
        message.delivered_at = now
    else:
        message.last_error = error or "the gateway reported the delivery failed"
    message.finished_at = now
    announce(uow, message, now)
    await uow.commit()
    return message


async def get_message(session: AsyncSession, principal: Principal, message_id_: str) -> Message:
    message = await session.get(Message, message_id_)
    if message is None or (_owner_only(principal) and message.party_id != principal.party_id):
        raise NotFound("message", message_id_)
    principal.check_site(message.site)
    return message


def _owner_only(principal: Principal) -> bool:
    return "owner" in principal.roles and not (principal.roles - {"owner"})


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    request_id: str | None,
    party_id: str | None,
    broadcast_id: str | None,
    status: Status | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Message], int]:
    query = select(Message)
    query = query.where(principal.site_filter(Message.site, site))
    if _owner_only(principal):
        party_id = principal.party_id or "-"  # an owner reads only their own messages
        query = query.where(Message.audience == "owner")
    for column, value in (
        (Message.request_id, request_id),
        (Message.party_id, party_id),
        (Message.broadcast_id, broadcast_id),
        (Message.status, status),
    ):
        if value:
            query = query.where(column == value)
    return await fetch_page(session, query, Message.created_at.desc(), Message.id, limit=limit, offset=offset)
