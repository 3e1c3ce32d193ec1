"""Request use cases: record a request, move it through its state machine, keep its time limits, and
apply what other services did about it. The timeline (building its entries and reading it) is in ``timeline``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.incident import service as incidents
from intake.organization.models import Building, Limit, Party, Site, TimeLimitRule, Unit
from intake.organization.service import check_category, resolve_limit, sees_contacts, time_limit_rules
from intake.request.models import (
    OPEN,
    REPLY_SETTLED,
    TRANSITIONS,
    Channel,
    ClassifyCommand,
    ComplaintClass,
    Kind,
    LinkCommand,
    ReplyCommand,
    Reporter,
    Request,
    RequestCreate,
    Status,
    StatusChange,
    can_transition,
)
from intake.request.timeline import note, timeline_entry
from pm_events import Event
from pm_events.intake import (
    RequestClassified,
    RequestCreated,
    RequestReopened,
    RequestReplied,
    RequestStatusChanged,
    RequestTimeLimit,
)
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import Envelope, as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid
from pm_platform.timers import cancel, schedule
from pm_platform.uow import UnitOfWork

STAGES = ("warning", "breach")


def timer_kind(limit: Limit, stage: str) -> str:
    return f"request.{limit}.{stage}"


# --- recording ------------------------------------------------------------------------------------


def is_owner(principal: Principal) -> bool:
    """An owner or tenant using the app (no staff role): acts only as, and sees only, their own party."""
    return "owner" in principal.roles and not sees_contacts(principal) and "worker" not in principal.roles


async def create_request(uow: UnitOfWork, principal: Principal, command: RequestCreate) -> Request:
    principal.check_site(command.site)
    if is_owner(principal):
        command = await _as_owner(uow.session, principal, command)
    request = await record_request(uow, command, actor=principal.subject)
    await uow.commit()
    return request


async def _as_owner(session: AsyncSession, principal: Principal, command: RequestCreate) -> RequestCreate:
    """An owner's own request from the app: the reporter is their archive record, the unit theirs."""
    party = await session.get(Party, principal.party_id) if principal.party_id else None
    if party is None or not party.active or party.site != command.site:
        raise Forbidden("the token's party is not an active party of this site", field="reporter")
    if command.unit_id is not None and command.unit_id != party.unit_id:
        raise Forbidden(f"unit {command.unit_id} is not the caller's unit", field="unit_id")
    if command.complaint_class is not None:
        raise Forbidden("complaints are classified by the service center", field="complaint_class")
    reporter = Reporter(party_id=party.id, name=party.name, phone=party.phone, language=party.language)
    return command.model_copy(update={"channel": Channel.app, "reporter": reporter})


async def record_request(
    uow: UnitOfWork, command: RequestCreate, *, actor: str, caused_by: Envelope | None = None
) -> Request:
    """Record a request (from the front desk, or raised by another service's event) with its time limits,
    duplicate flag and incident grouping; the caller commits."""
    session = uow.session
    site = await session.get(Site, command.site)
    if site is None:
        raise Invalid(f"site {command.site} does not exist", field="site")
    unit: Unit | None = None
    if command.unit_id is not None:
        unit = await session.get(Unit, command.unit_id)
        if unit is None or unit.site != command.site:
            raise Invalid(f"unit {command.unit_id} does not exist at site {command.site}", field="unit_id")
    if command.complaint_class is not None and command.kind != Kind.complaint:
        raise Invalid("complaint_class is for complaints only", field="complaint_class")
    await check_category(session, command.site, command.category)
    building_id = unit.building_id if unit else None
    if command.building is not None:
        building = await session.get(Building, f"{command.site}-{command.building}")
        if building is None or (unit is not None and building.id != unit.building_id):
            raise Invalid(
                f"building {command.building} does not exist at site {command.site}"
                + (" or is not the unit's" if unit else ""),
                field="building",
            )
        building_id = building.id
    now = utcnow()
    request = Request(
        id=new_id(),
        site=command.site,
        kind=command.kind,
        channel=command.channel,
        category=command.category,
        priority=command.priority,
        status=Status.new,
        description=command.description,
        unit_id=command.unit_id,
        location=command.location,
        in_unit=command.in_unit,
        reporter_party_id=command.reporter.party_id,
        reporter_name=command.reporter.name,
        reporter_phone=command.reporter.phone,
        appointment_start=command.appointment.start if command.appointment else None,
        appointment_end=command.appointment.end if command.appointment else None,
        created_by=actor,
        created_at=now,
        updated_at=now,
        building_id=building_id,
        photos=list(command.photos),
        complaint_class=command.complaint_class,
        escalated=command.complaint_class == ComplaintClass.valid,
        reopen_count=0,
        ack_breached=False,
        reply_breached=False,
    )
    request.possible_duplicate_of = await _possible_duplicate(session, site, request)
    session.add(request)
    await session.flush()
    rules = await time_limit_rules(session, request.site)  # read once for both limits
    await _arm(uow, request, Limit.acknowledge, now, rules)
    await _arm(uow, request, Limit.progress_reply, now, rules)
    incident = await incidents.group(uow, site, request)
    # This trace is the request's (`pm trace <request id>` finds it; later steps on the request link to it).
    await uow.join_request(request.id, new=True)
    created = RequestCreated(
        request_id=request.id,
        site=request.site,
        kind=request.kind,
        category=request.category,
        priority=request.priority,
        description=request.description,
        unit_id=request.unit_id,
        location=request.location,
        in_unit=request.in_unit,
        channel=request.channel,
        reporter=command.reporter.model_dump(),
        appointment=command.appointment.model_dump(mode="json") if command.appointment else None,
        created_at=now.isoformat(),
        # Optional additions (v1 stays compatible).
        building=command.building or (building_id.removeprefix(f"{site.code}-") if building_id else None),
        photos=request.photos,
        complaint_class=request.complaint_class,
        possible_duplicate_of=request.possible_duplicate_of,
        incident_id=incident.id if incident else None,
        ack_due_at=request.ack_due_at.isoformat() if request.ack_due_at else None,
        reply_due_at=request.reply_due_at.isoformat() if request.reply_due_at else None,
    )
    if caused_by is not None:
        event = uow.emit(created, subject=request.id, site=request.site, caused_by=caused_by)
    else:
        event = uow.emit(created, subject=request.id, site=request.site, correlation_id=request.id)
    summary = f"{request.kind} recorded by {actor} ({request.channel})"
    if request.possible_duplicate_of:
        summary += f"; possible duplicate of {request.possible_duplicate_of}"
    session.add(timeline_entry(request.id, request.unit_id, event, summary))
    if request.complaint_class is not None:  # classified as it was recorded
        emit_classified(
            uow, request, actor=actor, department=await known_department(session, request), caused_by=caused_by
        )
    return request


async def _possible_duplicate(session: AsyncSession, site: Site, request: Request) -> str | None:
    """An earlier request on the same unit and category within the site's window (not cancelled)."""
    if request.unit_id is None or site.duplicate_window_hours <= 0:
        return None
    since = request.created_at - timedelta(hours=site.duplicate_window_hours)
    query = (
        select(Request.id)
        .where(
            Request.unit_id == request.unit_id,
            Request.category == request.category,
            Request.created_at >= since,
            Request.status != Status.cancelled,
            Request.id != request.id,
        )
        .order_by(Request.created_at.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def _arm(
    uow: UnitOfWork, request: Request, limit: Limit, start: datetime, rules: Sequence[TimeLimitRule] | None = None
) -> None:
    """Schedule the limit's warning and breach timers (durable: they survive restarts)."""
    minutes, warning = await resolve_limit(uow.session, request.site, limit, request.kind, request.priority, rules)
    due = start + timedelta(minutes=minutes)
    if limit is Limit.acknowledge:
        request.ack_due_at = due
    else:
        request.reply_due_at = due
    payload = {"site": request.site, "limit": str(limit)}
    if warning > 0:
        await schedule(
            uow, timer_kind(limit, "warning"), key=request.id, due_at=due - timedelta(minutes=warning), payload=payload
        )
    else:
        await cancel(uow, timer_kind(limit, "warning"), key=request.id)
    await schedule(uow, timer_kind(limit, "breach"), key=request.id, due_at=due, payload=payload)


async def _disarm(uow: UnitOfWork, request: Request, limit: Limit) -> None:
    for stage in STAGES:
        await cancel(uow, timer_kind(limit, stage), key=request.id)


# --- the state machine ----------------------------------------------------------------------------


async def transition(
    uow: UnitOfWork,
    request: Request,
    target: Status,
    *,
    actor: str | None,
    reason: str | None = None,
    caused_by: Envelope | None = None,
    department: str | None = None,
    followup_id: str | None = None,
    work_order_id: str | None = None,
) -> None:
    """Move a request; an illegal transition raises 409 and changes nothing (the caller does not commit)."""
    current = Status(request.status)
    if not can_transition(current, target):
        allowed = sorted(TRANSITIONS[current])
        raise Conflict(
            f"request {request.id} is {current}; it cannot move to {target} (allowed: {', '.join(allowed) or 'none'})",
            field="status",
            allowed=allowed,
        )
    if target in (Status.cancelled, Status.reopened) and not reason:
        raise Invalid(f"a reason is required to move a request to {target}", field="reason")
    session = uow.session
    now = utcnow()
    request.status, request.updated_at = target, now
    if department:
        request.department = department
    if current is Status.new:
        request.acknowledged_at = request.acknowledged_at or now
        await _disarm(uow, request, Limit.acknowledge)
    if target is Status.resolved:
        request.resolved_at = now
    elif target is Status.closed:
        request.closed_at = now
    elif target is Status.cancelled:
        request.cancel_reason = reason
    if target in REPLY_SETTLED:
        await _disarm(uow, request, Limit.progress_reply)
    if target is Status.reopened:
        # A reopened request is a failure: it goes to the supervisor and the owner is owed a new reply.
        request.reopen_count += 1
        request.escalated = True
        request.resolved_at = request.closed_at = request.replied_at = None
        request.reply_breached = False
        await _arm(uow, request, Limit.progress_reply, now)
    session.add(
        StatusChange(
            request_id=request.id,
            site=request.site,
            from_status=current,
            to_status=target,
            reason=reason,
            actor=actor,
            changed_at=now,
        )
    )
    changed = RequestStatusChanged(
        request_id=request.id,
        site=request.site,
        unit_id=request.unit_id,
        kind=request.kind,
        category=request.category,
        priority=request.priority,
        from_status=str(current),
        to_status=str(target),
        reason=reason,
        actor=actor,
        department=request.department,
        complaint_class=request.complaint_class,
        party_id=request.reporter_party_id,
        changed_at=now.isoformat(),
    )
    event = _emit(uow, changed, request, caused_by)
    summary = f"{current} → {target}" + (f" by {actor}" if actor else "") + (f": {reason}" if reason else "")
    session.add(timeline_entry(request.id, request.unit_id, event, summary))
    if target is Status.reopened:
        reopened = _emit(
            uow,
            RequestReopened(
                request_id=request.id,
                site=request.site,
                unit_id=request.unit_id,
                kind=request.kind,
                category=request.category,
                priority=request.priority,
                reason=reason or "",
                followup_id=followup_id,
                work_order_id=work_order_id,
                department=request.department,
                escalated=True,
                reopen_count=request.reopen_count,
                actor=actor,
                reopened_at=now.isoformat(),
            ),
            request,
            caused_by,
        )
        session.add(
            timeline_entry(
                request.id,
                request.unit_id,
                reopened,
                f"reopened and escalated to the supervisor (#{request.reopen_count})",
            )
        )


def _emit(uow: UnitOfWork, event: Event, request: Request, caused_by: Envelope | None) -> Envelope:
    if caused_by is not None:
        return uow.emit(event, subject=request.id, site=request.site, caused_by=caused_by)
    return uow.emit(event, subject=request.id, site=request.site, correlation_id=request.id)


async def change_status(
    uow: UnitOfWork, principal: Principal, request_id: str, target: Status, reason: str | None
) -> Request:
    request = await _request_for_step(uow, principal, request_id)
    await transition(uow, request, target, actor=principal.subject, reason=reason)
    await uow.commit()
    return request


async def reply(uow: UnitOfWork, principal: Principal, request_id: str, command: ReplyCommand) -> Request:
    """The agent replied to the owner with progress: the progress-reply limit is met."""
    request = await _request_for_step(uow, principal, request_id)
    if request.status in (Status.closed, Status.cancelled):
        raise Conflict(f"request {request.id} is {request.status}", field="status")
    now = utcnow()
    request.replied_at = request.replied_at or now
    request.updated_at = now
    await _disarm(uow, request, Limit.progress_reply)
    party = await reporter_party(uow.session, request)
    # Notification sends the text to the reporter: the reply reaches the owner, not only the timeline.
    event = _emit(
        uow,
        RequestReplied(
            request_id=request.id,
            site=request.site,
            unit_id=request.unit_id,
            party_id=request.reporter_party_id,
            message=command.message,
            replied_by=principal.subject,
            replied_at=now.isoformat(),
            language=party.language if party else None,
        ),
        request,
        None,
    )
    uow.session.add(
        timeline_entry(
            request.id,
            request.unit_id,
            event,
            f"progress reply by {principal.subject} ({command.channel}): {command.message}",
        )
    )
    await uow.commit()
    return request


async def classify(uow: UnitOfWork, principal: Principal, request_id: str, command: ClassifyCommand) -> Request:
    request = await _request_for_step(uow, principal, request_id)
    if request.kind != Kind.complaint:
        raise Invalid(f"request {request.id} is a {request.kind}, not a complaint", field="complaint_class")
    department = command.department or await known_department(uow.session, request)
    if command.complaint_class is ComplaintClass.valid and not department:
        raise Invalid("a valid complaint names the responsible department", field="department")
    request.complaint_class = command.complaint_class
    if command.department or command.complaint_class is ComplaintClass.valid:
        request.department = department  # a communicative complaint keeps no guessed department
    if command.complaint_class is ComplaintClass.valid:
        request.escalated = True  # to the responsible department's supervisor
    request.updated_at = utcnow()
    emit_classified(uow, request, actor=principal.subject, department=department)
    await uow.commit()
    return request


async def known_department(session: AsyncSession, request: Request) -> str | None:
    """The department responsible for the request as far as intake knows: the one holding its work order, else
    the one most recently responsible for this site's category on another request (set by dispatch's
    work-order events, i.e. its routing, or named at a classification)."""
    if request.department:
        return request.department
    return await session.scalar(
        select(Request.department)
        .where(
            Request.site == request.site,
            Request.category == request.category,
            Request.department.is_not(None),
            Request.id != request.id,
        )
        .order_by(Request.updated_at.desc())
        .limit(1)
    )


def emit_classified(
    uow: UnitOfWork, request: Request, *, actor: str, department: str | None, caused_by: Envelope | None = None
) -> None:
    """``intake.request.classified.v1`` (notification tells the department's supervisor of a valid one) and
    its timeline entry."""
    now = utcnow()
    event = _emit(
        uow,
        RequestClassified(
            request_id=request.id,
            site=request.site,
            unit_id=request.unit_id,
            kind=request.kind,
            category=request.category,
            complaint_class=request.complaint_class,
            department=department,
            classified_by=actor,
            classified_at=now.isoformat(),
            summary=request.description,
            # What dispatch needs to open a valid complaint's work order from its classification.
            priority=request.priority,
            location=request.location,
            in_unit=request.in_unit,
            appointment={
                "start": as_utc(request.appointment_start).isoformat(),
                "end": as_utc(request.appointment_end).isoformat(),
            }
            if request.appointment_start and request.appointment_end
            else None,
            created_at=as_utc(request.created_at).isoformat(),
        ),
        request,
        caused_by,
    )
    uow.session.add(
        timeline_entry(
            request.id,
            request.unit_id,
            event,
            f"classified {request.complaint_class} by {actor}" + (f" (department {department})" if department else ""),
        )
    )


async def link_duplicate(uow: UnitOfWork, principal: Principal, request_id: str, command: LinkCommand) -> Request:
    request = await _request_for_step(uow, principal, request_id)
    original = await uow.session.get(Request, command.duplicate_of)
    if original is None or original.site != request.site or original.id == request.id:
        raise Invalid(
            f"request {command.duplicate_of} is not another request of site {request.site}", field="duplicate_of"
        )
    request.duplicate_of = original.duplicate_of or original.id  # link to the root, not a chain
    uow.session.add(
        note(
            request,
            "intake:linked",
            f"linked as a duplicate of {request.duplicate_of} by {principal.subject}",
            {"duplicate_of": request.duplicate_of},
        )
    )
    if command.cancel:
        await transition(
            uow, request, Status.cancelled, actor=principal.subject, reason=f"duplicate of {request.duplicate_of}"
        )
    await uow.commit()
    return request


# --- time limits ----------------------------------------------------------------------------------


async def time_limit_reached(uow: UnitOfWork, request_id: str, limit: Limit, stage: str) -> None:
    """A durable timer fired: warn, or record the breach and escalate, unless the limit was met meanwhile."""
    request = await uow.session.get(Request, request_id)
    if request is None:
        return
    if limit is Limit.acknowledge:
        if request.status != Status.new:
            return
        due = request.ack_due_at
    else:
        if request.replied_at is not None or request.status in REPLY_SETTLED:
            return
        due = request.reply_due_at
    if stage == "breach":
        request.escalated = True
        if limit is Limit.acknowledge:
            request.ack_breached = True
        else:
            request.reply_breached = True
    event = _emit(
        uow,
        RequestTimeLimit(
            request_id=request.id,
            site=request.site,
            unit_id=request.unit_id,
            kind=request.kind,
            category=request.category,
            priority=request.priority,
            limit=str(limit),
            stage=stage,
            status=request.status,
            due_at=as_utc(due or utcnow()).isoformat(),
        ),
        request,
        None,
    )
    words = "acknowledge" if limit is Limit.acknowledge else "progress reply"
    summary = (
        f"{words} limit breached: escalated to the supervisor"
        if stage == "breach"
        else f"{words} limit due at {as_utc(due or utcnow()).isoformat()}"
    )
    uow.session.add(timeline_entry(request.id, request.unit_id, event, summary))


# --- reading --------------------------------------------------------------------------------------


async def _request_for_step(uow: UnitOfWork, principal: Principal, request_id: str) -> Request:
    """The request a staff member acts on; the step joins the request's trace (a link both ways)."""
    request = await get_request(uow.session, principal, request_id)
    await uow.join_request(request.id)
    return request


def only_own_department(principal: Principal) -> bool:
    return "worker" in principal.roles and not sees_contacts(principal)


async def get_request(session: AsyncSession, principal: Principal, request_id: str) -> Request:
    request = await get_in_scope(session, Request, request_id, principal, what="request")
    if only_own_department(principal) and request.department != principal.department:
        raise Forbidden(f"request {request_id} is not for department {principal.department}", field="department")
    if is_owner(principal) and request.reporter_party_id != principal.party_id:
        raise Forbidden(f"request {request_id} is not the caller's", field="request_id")
    return request


def overdue_clause(now: datetime) -> Any:
    """Open and past a limit not yet met (by the clock, or because its breach timer fired)."""
    return or_(
        and_(Request.status == Status.new, or_(Request.ack_due_at < now, Request.ack_breached.is_(True))),
        and_(
            Request.replied_at.is_(None),
            Request.status.in_([s.value for s in OPEN]),
            or_(Request.reply_due_at < now, Request.reply_breached.is_(True)),
        ),
    )


def scoped(query: Select[Any], principal: Principal, site: str | None) -> Select[Any]:
    query = query.where(principal.site_filter(Request.site, site))
    if only_own_department(principal):
        query = query.where(Request.department == principal.department)
    if is_owner(principal):
        query = query.where(Request.reporter_party_id == principal.party_id)
    return query


async def list_requests(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    status: str | None,
    limit: int,
    offset: int,
    kind: str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    overdue: bool | None = None,
    unit_id: str | None = None,
    escalated: bool | None = None,
    incident_id: str | None = None,
) -> tuple[Sequence[Request], int]:
    query = scoped(select(Request), principal, site)
    if status:
        query = query.where(Request.status == status)
    if kind:
        query = query.where(Request.kind == kind)
    if category:
        query = query.where(Request.category == category)
    if unit_id:
        query = query.where(Request.unit_id == unit_id)
    if incident_id:
        query = query.where(Request.incident_id == incident_id)
    if escalated is not None:
        query = query.where(Request.escalated.is_(escalated))
    if date_from:
        query = query.where(Request.created_at >= datetime.combine(date_from, time.min, tzinfo=UTC))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(Request.created_at < end)
    if overdue is not None:
        clause = overdue_clause(utcnow())
        query = query.where(clause if overdue else ~clause)
    return await fetch_page(session, query, Request.created_at.desc(), Request.id, limit=limit, offset=offset)


async def reporter_party(session: AsyncSession, request: Request) -> Party | None:
    return await session.get(Party, request.reporter_party_id) if request.reporter_party_id else None


# --- what other services did ----------------------------------------------------------------------


async def record_progress(
    uow: UnitOfWork,
    event: Envelope,
    summary: str,
    target: Status | None = None,
    *,
    request_id: str | None,
    unit_id: str | None,
    department: str | None = None,
) -> Request | None:
    """Add another service's event (about ``request_id``, else its correlation's request) to the request's
    timeline and move the request on where that is legal (an event that arrives late never moves a request
    backwards)."""
    request_id = request_id or event.correlationid
    # Locked: intake's durables (dispatch, survey, ...) run concurrently, and a handler decides from the status
    # and the facts the other stream's handler may be writing (a completion and its follow-up's skip).
    request = await uow.session.get(Request, request_id, with_for_update=True)
    unit_id = request.unit_id if request is not None else unit_id
    uow.session.add(timeline_entry(request_id, unit_id, event, summary))
    if request is not None and department:
        request.department = department  # the department holding the work now (a transfer moves it)
    if request is not None and target is not None and can_transition(Status(request.status), target):
        await transition(uow, request, target, actor=None, caused_by=event, department=department)
    return request
