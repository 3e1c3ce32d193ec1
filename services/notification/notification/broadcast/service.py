"""Broadcast use cases: create (at once or scheduled by a durable timer), fan out, deliver per recipient,
progress.

Fan-out goes through JetStream: starting a broadcast writes one ``notification.broadcast.recipient.v1``
event per recipient to the outbox in the same transaction; the relay publishes them to the NOTIFICATION
stream and notification's own durable consumer ``notification-broadcast`` turns each into that party's
messages (preferences, opt-outs, quiet hours, dedupe and throttle applied per party). A crash anywhere
loses nothing and doubles nothing: the outbox, the inbox and the dedupe key see to that, and the work
spreads over every replica bound to the durable.
"""

# Chinese texts use Chinese (full-width) punctuation.

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.broadcast.models import Broadcast, BroadcastCreate, Kind, Progress, State, Urgency
from notification.config import config_of
from notification.contact.models import Party, Unit
from notification.message.models import Message, Status
from notification.message.service import Notice, Recipient, notify, party_recipient
from notification.preference.models import Category, Channel
from pm_events.intake import IncidentBroadcast
from pm_events.notification import BroadcastRecipient
from pm_platform.auth import Principal
from pm_platform.contracts import ContractViolation
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import Envelope, as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Invalid
from pm_platform.timers import cancel, schedule
from pm_platform.uow import UnitOfWork

START = "broadcast.start"
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:pm:notification:broadcast")
INCIDENT_TITLES = {
    Urgency.emergency: {"zh-CN": "紧急通知", "en": "Emergency notice"},
    Urgency.normal: {"zh-CN": "通知", "en": "Notice"},
}


def category_of(broadcast: Broadcast) -> Category:
    if broadcast.urgency == Urgency.emergency:
        return Category.emergency
    return Category.events if broadcast.kind == Kind.community_event else Category.service


async def create(uow: UnitOfWork, principal: Principal, body: BroadcastCreate) -> tuple[Broadcast, bool]:
    """Create a broadcast; (broadcast, created). A repeated dedupe key returns the first broadcast."""
    principal.check_site(body.site)
    session = uow.session
    dedupe_key = f"{body.site}:{body.dedupe_key}" if body.dedupe_key else None
    if dedupe_key:
        first = await session.scalar(select(Broadcast).where(Broadcast.dedupe_key == dedupe_key))
        if first is not None:
            return first, False
    await _check_targets(session, body)
    now = utcnow()
    broadcast_id = new_id()
    broadcast = Broadcast(
        id=broadcast_id,
        site=body.site,
        kind=body.kind.value,
        category=body.kind.value,
        urgency=body.urgency.value,
        title={**body.title_translations, body.language: body.title},
        text={**body.translations, body.language: body.message},
        buildings=body.buildings,
        unit_ids=body.unit_ids,
        notice_board=body.notice_board,
        dedupe_key=dedupe_key,
        state=State.scheduled.value,
        requested_by=principal.subject,
        correlation_id=broadcast_id,
        scheduled_at=body.scheduled_at,
        expires_at=body.expires_at,
        recipients=0,
        created_at=now,
    )
    session.add(broadcast)
    if body.scheduled_at is not None and as_utc(body.scheduled_at) > now:
        await schedule(uow, START, key=broadcast.id, due_at=body.scheduled_at, payload={"site": body.site})
    else:
        await start(uow, broadcast)
    await uow.commit()
    return broadcast, True


async def _check_targets(session: AsyncSession, body: BroadcastCreate) -> None:
    if body.unit_ids:
        known = set(
            (
                await session.scalars(
                    select(Unit.unit_id).where(Unit.site == body.site, Unit.unit_id.in_(body.unit_ids))
                )
            ).all()
        )
        known |= set(
            (
                await session.scalars(
                    select(Party.unit_id).where(Party.site == body.site, Party.unit_id.in_(body.unit_ids))
                )
            ).all()
        )
        unknown = sorted(set(body.unit_ids) - known)
        if unknown:
            raise Invalid(f"unknown units at {body.site}: {', '.join(unknown[:10])}", field="unit_ids")
    if body.buildings:
        known = set(
            (
                await session.scalars(
                    select(distinct(Unit.building)).where(Unit.site == body.site, Unit.building.in_(body.buildings))
                )
            ).all()
        )
        unknown = sorted(set(body.buildings) - known)
        if unknown:
            raise Invalid(f"unknown buildings at {body.site}: {', '.join(unknown)}", field="buildings")


async def from_incident(uow: UnitOfWork, data: IncidentBroadcast, event: Envelope) -> None:
    """``intake.incident.broadcast.v1``: tell the incident's units at once."""
    broadcast_id = data.broadcast_id or str(uuid.uuid5(_IDS, event.id))
    if await uow.session.get(Broadcast, broadcast_id) is not None:
        return  # the same broadcast announced again
    urgency = Urgency(data.urgency)
    broadcast = Broadcast(
        id=broadcast_id,
        site=data.site,
        kind=Kind.incident.value,
        category=data.category,
        urgency=urgency.value,
        title=dict(INCIDENT_TITLES[urgency]),
        text={"zh-CN": data.message, "en": data.message},
        buildings=[data.building] if data.building else [],
        unit_ids=list(data.unit_ids),
        notice_board=True,
        incident_id=data.incident_id,
        dedupe_key=None,
        state=State.scheduled.value,
        requested_by=data.requested_by,
        correlation_id=event.correlationid,
        recipients=0,
        created_at=utcnow(),
    )
    uow.session.add(broadcast)
    await start(uow, broadcast, caused_by=event)


async def _audience(session: AsyncSession, broadcast: Broadcast) -> Sequence[Party]:
    query = select(Party).where(Party.site == broadcast.site, Party.active.is_(True))
    if broadcast.unit_ids:
        query = query.where(Party.unit_id.in_(broadcast.unit_ids))
    elif broadcast.buildings:
        query = query.where(
            Party.unit_id.in_(
                select(Unit.unit_id).where(Unit.site == broadcast.site, Unit.building.in_(broadcast.buildings))
            )
        )
    return (await session.scalars(query.order_by(Party.party_id))).all()


async def start(uow: UnitOfWork, broadcast: Broadcast, caused_by: Envelope | None = None) -> None:
    """Fan out: one recipient event per party, in this transaction's outbox; post the notice boards."""
    now = utcnow()
    audience = await _audience(uow.session, broadcast)
    for party in audience:
        # The contact travels with the event (a snapshot at fan-out): the consumer need not look it up.
        contact = {
            "name": party.name,
            "phone": party.phone,
            "email": party.email,
            "language": party.language,
            "extra_care": bool(party.extra_care),
        }
        uow.emit(
            BroadcastRecipient(
                broadcast_id=broadcast.id,
                site=broadcast.site,
                party_id=party.party_id,
                unit_id=party.unit_id,
                urgency=broadcast.urgency,
                contact=contact,
            ),
            subject=broadcast.id,
            site=broadcast.site,
            caused_by=caused_by,
            correlation_id=broadcast.correlation_id,
        )
    broadcast.recipients, broadcast.state, broadcast.started_at = len(audience), State.started.value, now
    if broadcast.notice_board:
        boards = broadcast.buildings or ["*"]
        notice = _notice(broadcast, source_event_id=f"broadcast:{broadcast.id}")
        notice.category = Category.service  # a board is read, not woken up: no quiet hours apply to it
        for building in boards:
            board = broadcast.site if building == "*" else f"{broadcast.site}/{building}"
            language = "zh-CN" if "zh-CN" in broadcast.text else next(iter(broadcast.text))
            await notify(
                uow,
                notice,
                Recipient(
                    audience="board",
                    key=f"board:{board}",
                    name=board,
                    language=language,
                    channels=((Channel.notice_board.value, board),),
                ),
                now,
            )


def _notice(broadcast: Broadcast, source_event_id: str, template: str = "broadcast.notice") -> Notice:
    return Notice(
        template=template,
        category=category_of(broadcast),
        site=broadcast.site,
        source_event_id=source_event_id,
        correlation_id=broadcast.correlation_id,
        broadcast_id=broadcast.id,
        values={"site": broadcast.site},
        localised={"title": broadcast.title, "message": broadcast.text},
        dedupe=f"broadcast:{broadcast.dedupe_key or broadcast.id}",
        expires_at=broadcast.expires_at,
    )


async def deliver(uow: UnitOfWork, data: BroadcastRecipient, event: Envelope) -> None:
    """One recipient of a broadcast: record their messages (``notification.broadcast.recipient.v1``)."""
    broadcast = await _held(uow.session, data.broadcast_id)
    if broadcast is None:
        raise ContractViolation(f"data/broadcast_id: no broadcast {data.broadcast_id}")
    notice = _notice(broadcast, source_event_id=event.id)
    party = _carried(data) or await uow.session.get(Party, data.party_id)
    if party is None or not party.active:
        # Moved out between the fan-out and now: logged, so the broadcast's progress still completes.
        gone = Recipient(
            audience="owner",
            key=data.party_id,
            name=data.party_id,
            language="zh-CN",
            channels=((Channel.sms.value, None),),
            party_id=data.party_id,
            inactive=True,
        )
        await notify(uow, notice, gone)
        await complete_if_final(uow.session, {broadcast.id})
        return
    recipient = await party_recipient(uow.session, party, config_of(uow.runtime))
    recorded = await notify(uow, notice, recipient)
    if broadcast.urgency == Urgency.emergency and party.extra_care and party.phone:
        # People needing extra care (elderly, disabled) also get a phone call from staff.
        call = _notice(broadcast, source_event_id=event.id, template="broadcast.call_task")
        call.values.update(name=party.name, phone=party.phone, unit=party.unit_id)
        call.dedupe = f"{call.dedupe}:call"
        await notify(
            uow,
            call,
            Recipient(
                audience="owner",
                key=party.party_id,
                name=party.name,
                language=recipient.language,
                party_id=party.party_id,
                channels=((Channel.call_task.value, party.phone),),
            ),
        )
    elif all(m.status != Status.queued for m in recorded):
        await complete_if_final(uow.session, {broadcast.id})  # nothing left for the sender: maybe the last one


async def _held(session: AsyncSession, broadcast_id: str) -> Broadcast | None:
    """The broadcast, read once per session. The session's identity map holds unchanged rows only weakly: without
    this reference each recipient of a consumer's batch read the broadcast again (a fifth of a 10,000-unit
    broadcast's CPU in the profile)."""
    held: dict[str, Broadcast] = session.info.setdefault("pm.broadcasts", {})
    broadcast = held.get(broadcast_id) or await session.get(Broadcast, broadcast_id)
    if broadcast is not None:
        held[broadcast_id] = broadcast
    return broadcast


def _carried(data: BroadcastRecipient) -> Party | None:
    """The party as the fan-out event carries it (not added to the session: a read-only snapshot)."""
    contact = data.contact
    if not contact:
        return None
    return Party(
        party_id=data.party_id,
        site=data.site,
        unit_id=data.unit_id,
        role="owner",
        name=contact.name,
        phone=contact.phone,
        email=contact.email,
        language=contact.language,
        extra_care="extra_care" if contact.extra_care else "",
        active=True,
    )


async def start_due(uow: UnitOfWork, broadcast_id: str) -> None:
    broadcast = await uow.session.get(Broadcast, broadcast_id)
    if broadcast is not None and broadcast.state == State.scheduled:
        await start(uow, broadcast)


async def cancel_broadcast(uow: UnitOfWork, principal: Principal, broadcast_id: str) -> Broadcast:
    broadcast = await get_broadcast(uow.session, principal, broadcast_id)
    if broadcast.state != State.scheduled:
        raise Conflict(f"broadcast {broadcast_id} is {broadcast.state}; only a scheduled one can be cancelled")
    await cancel(uow, START, key=broadcast_id)
    broadcast.state = State.cancelled.value
    await uow.commit()
    return broadcast


async def get_broadcast(session: AsyncSession, principal: Principal, broadcast_id: str) -> Broadcast:
    return await get_in_scope(session, Broadcast, broadcast_id, principal, what="broadcast")


async def list_broadcasts(
    session: AsyncSession, principal: Principal, site: str, limit: int, offset: int
) -> tuple[Sequence[Broadcast], int]:
    query = select(Broadcast).where(principal.site_filter(Broadcast.site, site))
    return await fetch_page(session, query, Broadcast.created_at.desc(), Broadcast.id, limit=limit, offset=offset)


async def progress(session: AsyncSession, broadcast: Broadcast) -> Progress:
    # One statement, so one snapshot: read as two statements on PostgreSQL, the counts could predate
    # messages that the "reached" count already saw, and a broadcast looked final, then not.
    of_broadcast = Message.broadcast_id == broadcast.id
    reached_owners = (
        select(func.count(distinct(Message.party_id)))
        .where(of_broadcast, Message.audience == "owner")
        .scalar_subquery()
    )
    counts = await session.execute(
        select(Message.status, Message.reason, func.count(), reached_owners)
        .where(of_broadcast)
        .group_by(Message.status, Message.reason)
    )
    by_status: dict[str, int] = {s.value: 0 for s in Status}
    by_reason: dict[str, int] = {}
    total = reached = 0
    for status, reason, count, owners in counts.tuples():
        by_status[status] = by_status.get(status, 0) + count
        total += count
        reached = owners or 0
        if status == Status.suppressed and reason:
            by_reason[reason] = by_reason.get(reason, 0) + count
    final = (
        broadcast.state in (State.started, State.completed)
        and reached >= broadcast.recipients
        and by_status[Status.queued] == 0
    )
    return Progress(
        recipients=broadcast.recipients,
        reached=reached,
        messages=total,
        by_status=by_status,
        suppressed_by_reason=by_reason,
        final=final,
    )


async def complete_if_final(session: AsyncSession, broadcast_ids: set[str]) -> None:
    """A started broadcast whose every recipient's messages are final is completed (called where messages of
    a broadcast become final: the sender, and a recipient's messages all suppressed at once)."""
    for broadcast_id in sorted(broadcast_ids):
        # Locked, so the sender and a recipient's handler finishing the last messages at once do not each
        # miss the other's (the second waits, then counts both).
        broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
        if broadcast is not None and broadcast.state == State.started and (await progress(session, broadcast)).final:
            broadcast.state = State.completed.value
