"""Follow-up use cases: schedule one when a work order completes or a complaint is resolved (the site's
policy and the party's fatigue budget decide whether to ask), take the owner's answer (by an agent on the
phone or by the owner), count unanswered attempts until the owner is unreachable, and read them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_events.dispatch import WorkOrderCompleted
from pm_events.intake import RequestCreated, RequestStatusChanged
from pm_events.survey import FollowupCompleted, FollowupScheduled, FollowupSkipped
from pm_platform import timers
from pm_platform.auth import Principal
from pm_platform.db import fetch_page
from pm_platform.envelope import Envelope, as_utc, new_id, parse_utc, utcnow
from pm_platform.errors import Conflict, Forbidden, NotFound
from pm_platform.timers import DueTimer
from pm_platform.uow import UnitOfWork
from survey.config.models import Method, PolicyMode, SiteConfig
from survey.config.service import get_config, policy_for
from survey.contacts.service import party_for_unit, record_contact, within_budget
from survey.followup.models import (
    Attempt,
    AttemptCreate,
    FollowUp,
    FollowUpAnswer,
    Outcome,
    RequestInfo,
    SkipReason,
    Source,
    Status,
)

DUE_TIMER = "followup.due"
COMPLAINT = "complaint"
RESOLVED = "resolved"


# --- the slim copy of intake's requests -------------------------------------------------------------


async def remember_request(session: AsyncSession, data: RequestCreated | RequestStatusChanged) -> RequestInfo:
    info = await session.get(RequestInfo, data.request_id)
    if info is None:
        info = RequestInfo(id=data.request_id)
        session.add(info)
    info.site, info.kind, info.category = data.site, data.kind, data.category
    info.unit_id = data.unit_id or info.unit_id
    if isinstance(data, RequestCreated):
        info.party_id = data.reporter.party_id or info.party_id
    else:
        info.party_id = data.party_id or info.party_id
        info.status = data.to_status
    await session.flush()
    return info


# --- scheduling -------------------------------------------------------------------------------------


def in_sample(request_id: str, percent: int) -> bool:
    """A stable draw: the same request is always in or out of a given percentage (replays agree)."""
    return int(hashlib.sha256(request_id.encode()).hexdigest(), 16) % 100 < percent


async def _already_rated(session: AsyncSession, request_id: str) -> bool:
    """The owner answered a follow-up of this request and it did not reopen it."""
    query = select(func.count()).where(
        FollowUp.request_id == request_id, FollowUp.status == Status.done, FollowUp.reopen.is_(False)
    )
    return bool(await session.scalar(query))


async def _skip_reason(
    session: AsyncSession, followup: FollowUp, config: SiteConfig, mode: str, percent: int | None, now: datetime
) -> SkipReason | None:
    if mode == PolicyMode.sample and not percent:
        return SkipReason.policy_skip  # a 0% sample: the policy asks nobody in this category
    if mode == PolicyMode.sample and not in_sample(followup.request_id, percent or 0):
        return SkipReason.not_sampled
    if mode == PolicyMode.skip_if_rated and await _already_rated(session, followup.request_id):
        return SkipReason.already_rated
    # Every complaint is followed up (DOMAIN.md); the fatigue budget spares owners the routine asks only.
    if (
        followup.source != Source.complaint
        and followup.party_id
        and not await within_budget(session, followup.party_id, config, now)
    ):
        return SkipReason.fatigue
    return None


async def schedule_followup(
    uow: UnitOfWork,
    cause: Envelope,
    *,
    source: Source,
    request_id: str,
    site: str,
    done_at: datetime,
    work_order_id: str | None = None,
    unit_id: str | None = None,
    department: str | None = None,
) -> FollowUp:
    """Schedule the follow-up of a request (one open at a time per request), due ``followup_due_hours``
    after the work was done, unless the site's policy or the party's fatigue budget skips it."""
    session = uow.session
    open_one = await session.scalar(
        select(FollowUp).where(FollowUp.request_id == request_id, FollowUp.status == Status.scheduled)
    )
    if open_one is not None:
        return open_one  # a second work order of the same request: the owner is asked once
    info = await session.get(RequestInfo, request_id)
    unit_id = unit_id or (info.unit_id if info else None)
    party_id = info.party_id if info and info.party_id else None
    if party_id is None:
        party = await party_for_unit(session, unit_id)
        party_id = party.id if party else None
    category = info.category if info else None
    config = await get_config(session, site)
    policy = await policy_for(session, site, category or department)
    now = utcnow()
    method = policy.method if party_id else Method.call  # a message needs someone to send it to
    followup = FollowUp(
        id=new_id(),
        request_id=request_id,
        work_order_id=work_order_id,
        site=site,
        unit_id=unit_id,
        party_id=party_id,
        department=department,
        source=source,
        kind=info.kind if info else None,
        category=category,
        method=method,
        status=Status.scheduled,
        overdue=False,
        attempts=0,
        due_at=done_at + timedelta(hours=config.followup_due_hours),
        created_at=now,
        source_event_id=cause.id,
    )
    reason = await _skip_reason(session, followup, config, policy.mode, policy.sample_percent, now)
    session.add(followup)
    if reason is not None:
        followup.status, followup.skip_reason = Status.skipped, reason
        await session.flush()
        _emit_skipped(uow, followup, now, caused_by=cause)
        return followup
    if party_id:
        record_contact(session, party_id=party_id, site=site, kind="followup", ref_id=followup.id, at=now)
    await session.flush()
    await timers.schedule(uow, DUE_TIMER, key=followup.id, due_at=followup.due_at)
    _emit_scheduled(uow, followup, caused_by=cause)
    return followup


# How survey's skip reasons read on the wire (survey.followup.skipped.v1).
SKIPPED_REASONS: dict[str, str] = {
    SkipReason.policy_skip: "policy_skip",
    SkipReason.not_sampled: "sampled_out",
    SkipReason.already_rated: "already_rated",
    SkipReason.fatigue: "contact_budget",
}


def _emit_skipped(uow: UnitOfWork, followup: FollowUp, now: datetime, *, caused_by: Envelope) -> None:
    """Nobody will be asked: tell intake, so a resolved request does not wait for an answer forever."""
    assert followup.skip_reason is not None
    uow.emit(
        FollowupSkipped(
            request_id=followup.request_id,
            site=followup.site,
            work_order_id=followup.work_order_id,
            unit_id=followup.unit_id,
            party_id=followup.party_id,
            reason=SKIPPED_REASONS[followup.skip_reason],
            skipped_at=now.isoformat(),
        ),
        subject=followup.id,
        site=followup.site,
        caused_by=caused_by,
    )


def _emit_scheduled(uow: UnitOfWork, followup: FollowUp, *, caused_by: Envelope | None = None) -> None:
    uow.emit(
        FollowupScheduled(
            followup_id=followup.id,
            request_id=followup.request_id,
            work_order_id=followup.work_order_id,
            site=followup.site,
            due_at=as_utc(followup.due_at).isoformat(),
            method=followup.method,
            unit_id=followup.unit_id,
            party_id=followup.party_id,
            source=followup.source,
            attempt=followup.attempts + 1,
        ),
        subject=followup.id,
        site=followup.site,
        caused_by=caused_by,
        correlation_id=followup.request_id,
    )


async def schedule_for_work_order(uow: UnitOfWork, data: WorkOrderCompleted, completed: Envelope) -> FollowUp:
    return await schedule_followup(
        uow,
        completed,
        source=Source.work_order,
        request_id=data.request_id,
        site=data.site,
        done_at=parse_utc(data.completed_at),
        work_order_id=data.work_order_id,
        unit_id=data.unit_id,
        department=data.department,
    )


async def request_status_changed(uow: UnitOfWork, data: RequestStatusChanged, changed: Envelope) -> FollowUp | None:
    """Keep the request copy current; a resolved complaint gets its follow-up."""
    await remember_request(uow.session, data)
    if data.kind != COMPLAINT or data.to_status != RESOLVED:
        return None
    return await schedule_followup(
        uow,
        changed,
        source=Source.complaint,
        request_id=data.request_id,
        site=data.site,
        done_at=parse_utc(data.changed_at),
        unit_id=data.unit_id,
        department=data.department,
    )


# --- the answer, attempts and the due timer -------------------------------------------------------------


def _emit_completed(uow: UnitOfWork, followup: FollowUp) -> None:
    scores = None
    if followup.score_overall is not None:
        scores = {"overall": followup.score_overall, "speed": followup.score_speed, "attitude": followup.score_attitude}
    assert followup.completed_at is not None and followup.outcome is not None
    uow.emit(
        FollowupCompleted(
            followup_id=followup.id,
            request_id=followup.request_id,
            work_order_id=followup.work_order_id,
            site=followup.site,
            unit_id=followup.unit_id,
            party_id=followup.party_id,
            department=followup.department,
            kind=followup.kind,
            category=followup.category,
            outcome=followup.outcome,
            solved=followup.solved,
            scores=scores,
            comment=followup.comment,
            reopen=bool(followup.reopen),
            attempts=followup.attempts,
            method=followup.method,
            recorded_by=followup.answered_by,
            completed_at=as_utc(followup.completed_at).isoformat(),
        ),
        subject=followup.id,
        site=followup.site,
        correlation_id=followup.request_id,
    )


def outcome_of(answer: FollowUpAnswer, low_score_threshold: int) -> Outcome:
    if not answer.solved:
        return Outcome.not_solved
    scores = answer.scores
    if scores and min(scores.overall, scores.speed, scores.attitude) <= low_score_threshold:
        return Outcome.low_score
    return Outcome.satisfied


async def _open_followup(uow: UnitOfWork, followup_id: str) -> FollowUp:
    """The follow-up a staff member or the owner acts on; the step joins the request's trace (a link both ways)."""
    followup = await uow.session.get(FollowUp, followup_id, with_for_update=True)
    if followup is None:
        raise NotFound("follow-up", followup_id)
    await uow.join_request(followup.request_id)
    return followup


def _require_open(followup: FollowUp) -> None:
    if followup.status != Status.scheduled:
        raise Conflict(f"follow-up {followup.id} is {followup.status}, not scheduled", field="status")


async def answer(
    uow: UnitOfWork, principal: Principal, followup_id: str, body: FollowUpAnswer, *, by_owner: bool
) -> FollowUp:
    """Record the owner's answer; not solved or a low score reopens the request (intake, dispatch react)."""
    followup = await _open_followup(uow, followup_id)
    if by_owner:
        if not principal.party_id or principal.party_id != followup.party_id:
            raise Forbidden("owners answer only their own follow-ups", field="followup_id")
    else:
        principal.check_site(followup.site)
    _require_open(followup)
    config = await get_config(uow.session, followup.site)
    outcome = outcome_of(body, config.low_score_threshold)
    followup.outcome, followup.solved, followup.comment = outcome, body.solved, body.comment
    if body.scores:
        followup.score_overall, followup.score_speed = body.scores.overall, body.scores.speed
        followup.score_attitude = body.scores.attitude
    followup.reopen = outcome in (Outcome.not_solved, Outcome.low_score)
    followup.status, followup.completed_at = Status.done, utcnow()
    followup.answered_by = principal.party_id if by_owner else principal.subject
    await timers.cancel(uow, DUE_TIMER, key=followup.id)
    _emit_completed(uow, followup)
    await uow.commit()
    return followup


async def _count_attempt(
    uow: UnitOfWork, followup: FollowUp, config: SiteConfig, *, actor: str, note: str | None, now: datetime
) -> None:
    """One more unanswered attempt: unreachable after ``followup_max_attempts``, else due again later."""
    followup.attempts += 1
    uow.session.add(Attempt(followup_id=followup.id, attempted_at=now, actor=actor, note=note))
    if followup.attempts >= config.followup_max_attempts:
        followup.status, followup.outcome, followup.reopen = Status.unreachable, Outcome.unreachable, False
        followup.completed_at, followup.answered_by = now, actor
        await timers.cancel(uow, DUE_TIMER, key=followup.id)
        _emit_completed(uow, followup)
        return
    followup.due_at, followup.overdue = now + timedelta(hours=config.followup_retry_hours), False
    await timers.schedule(uow, DUE_TIMER, key=followup.id, due_at=followup.due_at)
    if followup.method == Method.message:
        _emit_scheduled(uow, followup)  # the message goes out again


async def record_attempt(uow: UnitOfWork, principal: Principal, followup_id: str, body: AttemptCreate) -> FollowUp:
    """An agent called and nobody answered."""
    followup = await _open_followup(uow, followup_id)
    principal.check_site(followup.site)
    _require_open(followup)
    config = await get_config(uow.session, followup.site)
    await _count_attempt(uow, followup, config, actor=principal.subject, note=body.note, now=utcnow())
    await uow.commit()
    return followup


async def followup_due(timer: DueTimer, uow: UnitOfWork) -> None:
    """The due time passed: an unanswered message counts as an attempt (sent again, or unreachable);
    a call nobody made yet is flagged overdue for the supervisor."""
    followup = await uow.session.get(FollowUp, timer.key, with_for_update=True)
    if followup is None or followup.status != Status.scheduled:
        return
    if followup.method == Method.message:
        config = await get_config(uow.session, followup.site)
        await _count_attempt(
            uow, followup, config, actor="system", note="no answer by the due time", now=max(timer.due_at, utcnow())
        )
    else:
        followup.overdue = True


# --- reads ----------------------------------------------------------------------------------------------


async def get_followup(session: AsyncSession, principal: Principal, followup_id: str) -> FollowUp:
    followup = await session.get(FollowUp, followup_id)
    if followup is None:
        raise NotFound("follow-up", followup_id)
    if principal.roles == {"owner"}:
        if not principal.party_id or principal.party_id != followup.party_id:
            raise Forbidden("owners see only their own follow-ups", field="followup_id")
    else:
        principal.check_site(followup.site)
    return followup


async def list_followups(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    status: str | None,
    overdue: bool | None,
    request_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[FollowUp], int]:
    query = select(FollowUp)
    query = query.where(principal.site_filter(FollowUp.site, site))
    if principal.roles == {"owner"}:
        query = query.where(FollowUp.party_id == (principal.party_id or ""))
    if status:
        query = query.where(FollowUp.status == status)
    if overdue is not None:
        query = query.where(FollowUp.overdue.is_(overdue))
    if request_id:
        query = query.where(FollowUp.request_id == request_id)
    return await fetch_page(session, query, FollowUp.due_at, FollowUp.id, limit=limit, offset=offset)
