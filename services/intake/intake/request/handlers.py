"""Subscribers: what other services did about a request, onto its timeline and status; and the durable
timers of the request time limits."""

from __future__ import annotations

from sqlalchemy import select

from intake.organization.models import Category, Limit, Party
from intake.request.models import OPEN, Channel, Reporter, Request, RequestCreate, Status, WorkFact, can_transition
from intake.request.service import (
    STAGES,
    record_progress,
    record_request,
    time_limit_reached,
    timer_kind,
    transition,
)
from intake.request.timeline import timeline_entry
from pm_events.billing import ChargeRecorded
from pm_events.dispatch import WorkOrderCompleted, WorkOrderCreated, WorkOrderStatusChanged, WorkOrderTimeLimit
from pm_events.notification import MessageSent
from pm_events.survey import FollowupCompleted, FollowupScheduled, FollowupSkipped, VisitRecorded
from pm_platform.contracts import ContractViolation
from pm_platform.envelope import Envelope, utcnow
from pm_platform.errors import DomainError
from pm_platform.subscriptions import Subscriptions, decode
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()
timers = Timers()

# Work-order states that mean someone is working on the request.
WORKING = frozenset({"accepted", "on_the_way", "on_site"})


def _for_no_request(event: WorkOrderCreated | WorkOrderCompleted | WorkOrderStatusChanged | WorkOrderTimeLimit) -> bool:
    """A decoration inspection's work order (``inspection_id`` set; its request_id is the inspection's id) serves
    no request: the permit hears of it through dispatch.inspection.completed.v1, so requests' timelines skip it."""
    return event.inspection_id is not None


@subscriptions.on(WorkOrderCreated)
async def on_work_order_created(event: WorkOrderCreated, envelope: Envelope, uow: UnitOfWork) -> None:
    if _for_no_request(event):
        return
    await record_progress(
        uow,
        envelope,
        f"work order created for {event.department}",
        Status.in_progress,
        department=event.department,
        request_id=event.request_id,
        unit_id=event.unit_id,
    )


@subscriptions.on(WorkOrderCompleted)
async def on_work_order_completed(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
    if _for_no_request(event):
        return
    request = await record_progress(
        uow,
        envelope,
        f"work order completed: {event.result}",
        Status.resolved,
        department=event.department,
        request_id=event.request_id,
        unit_id=event.unit_id,
    )
    if request is None:
        return
    uow.session.add(
        WorkFact(
            request_id=request.id,
            work_order_id=event.work_order_id,
            kind="work_order_completed",
            event=envelope.model_dump(mode="json"),
            applied=True,
            recorded_at=utcnow(),
        )
    )
    # Survey's answer about this work order may have arrived first (another stream): apply it now.
    waiting = (
        await uow.session.scalars(
            select(WorkFact)
            .where(
                WorkFact.request_id == request.id,
                WorkFact.applied.is_(False),
                WorkFact.work_order_id == event.work_order_id,
            )
            .order_by(WorkFact.id)
        )
    ).all()
    for fact in waiting:
        fact.applied = True
        followup = Envelope.model_validate(fact.event)
        if fact.kind == "followup_skipped":
            await _apply_skip(uow, request, decode(FollowupSkipped, followup), followup)
        else:
            await _apply_followup(uow, request, decode(FollowupCompleted, followup), followup)


async def _waits_for_completion(
    uow: UnitOfWork, request: Request, event: FollowupCompleted | FollowupSkipped, envelope: Envelope, kind: str
) -> bool:
    """Whether a follow-up outcome must wait for its work order's completion, which dispatch's stream has not
    delivered yet (the request is still open and intake has not seen that work order complete); if so it is
    kept as a fact and applied when the completion arrives."""
    work_order_id = event.work_order_id
    if not work_order_id or Status(request.status) not in OPEN:
        return False
    completed = await uow.session.scalar(
        select(WorkFact.id)
        .where(
            WorkFact.request_id == request.id,
            WorkFact.work_order_id == work_order_id,
            WorkFact.kind == "work_order_completed",
        )
        .limit(1)
    )
    if completed is not None:
        return False
    uow.session.add(
        WorkFact(
            request_id=request.id,
            work_order_id=work_order_id,
            kind=kind,
            event=envelope.model_dump(mode="json"),
            applied=False,
            recorded_at=utcnow(),
        )
    )
    return True


@subscriptions.on(WorkOrderStatusChanged)
async def on_work_order_status_changed(event: WorkOrderStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    if _for_no_request(event):
        return
    summary = f"work order {event.from_status} → {event.to_status} ({event.department})"
    if event.assignee:
        summary += f", assigned to {event.assignee}"
    if event.reason:
        summary += f": {event.reason}"
    target = Status.in_progress if event.to_status in WORKING else None
    await record_progress(
        uow, envelope, summary, target, department=event.department, request_id=event.request_id, unit_id=event.unit_id
    )


@subscriptions.on(WorkOrderTimeLimit)
async def on_work_order_time_limit(event: WorkOrderTimeLimit, envelope: Envelope, uow: UnitOfWork) -> None:
    if _for_no_request(event):
        return
    await record_progress(
        uow,
        envelope,
        f"work order {event.limit} limit {event.stage} ({event.department}), due {event.due_at}",
        request_id=event.request_id,
        unit_id=event.unit_id,
    )


@subscriptions.on(FollowupScheduled)
async def on_followup_scheduled(event: FollowupScheduled, envelope: Envelope, uow: UnitOfWork) -> None:
    await record_progress(
        uow,
        envelope,
        f"follow-up ({event.method}) due {event.due_at}",
        request_id=event.request_id,
        unit_id=event.unit_id,
    )


@subscriptions.on(FollowupCompleted)
async def on_followup_completed(event: FollowupCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
    summary = f"follow-up {event.outcome}" + (f": {event.comment}" if event.comment else "")
    request = await record_progress(uow, envelope, summary, request_id=event.request_id, unit_id=event.unit_id)
    if request is None or await _waits_for_completion(uow, request, event, envelope, "followup_completed"):
        return
    await _apply_followup(uow, request, event, envelope)


async def _apply_followup(uow: UnitOfWork, request: Request, event: FollowupCompleted, envelope: Envelope) -> None:
    """A failed follow-up reopens and escalates the request (dispatch then creates rework); otherwise the
    request is followed up, and closed when the owner is satisfied."""
    if event.reopen:
        if can_transition(Status(request.status), Status.reopened):
            reason = f"follow-up {event.outcome}" + (f": {event.comment}" if event.comment else "")
            await transition(
                uow,
                request,
                Status.reopened,
                actor=None,
                reason=reason,
                caused_by=envelope,
                department=event.department,
                followup_id=event.followup_id,
                work_order_id=event.work_order_id,
            )
        return
    if can_transition(Status(request.status), Status.followed_up):
        await transition(uow, request, Status.followed_up, actor=None, caused_by=envelope)
    if event.outcome == "satisfied" and can_transition(Status(request.status), Status.closed):
        await transition(
            uow, request, Status.closed, actor=None, reason="owner satisfied at the follow-up", caused_by=envelope
        )


# How survey's skip reasons read on a request's history.
SKIP_REASONS = {
    "policy_skip": "the site's policy asks nobody in this category",
    "sampled_out": "not drawn in the site's follow-up sample",
    "already_rated": "the owner already rated this request",
    "contact_budget": "the owner's contact budget is used up",
}


@subscriptions.on(FollowupSkipped)
async def on_followup_skipped(event: FollowupSkipped, envelope: Envelope, uow: UnitOfWork) -> None:
    why = SKIP_REASONS.get(event.reason, event.reason)
    request = await record_progress(
        uow, envelope, f"follow-up skipped: {why}", request_id=event.request_id, unit_id=event.unit_id
    )
    if request is None or await _waits_for_completion(uow, request, event, envelope, "followup_skipped"):
        return
    await _apply_skip(uow, request, event, envelope)


async def _apply_skip(uow: UnitOfWork, request: Request, event: FollowupSkipped, envelope: Envelope) -> None:
    """No follow-up will come: a resolved request is closed with the reason (it would wait forever); a request
    in any other status (reopened, already followed up or closed) only records it on its timeline."""
    why = SKIP_REASONS.get(event.reason, event.reason)
    if request.status == Status.resolved:
        await transition(
            uow, request, Status.closed, actor=None, reason=f"follow-up skipped: {why}", caused_by=envelope
        )


@subscriptions.on(VisitRecorded)
async def on_visit_recorded(event: VisitRecorded, envelope: Envelope, uow: UnitOfWork) -> None:
    """A manager's home visit found something to do: record it as a request raised on the visit."""
    raise_request = event.raise_request
    if not raise_request:
        return
    session = uow.session
    category = raise_request.category
    known = await session.scalar(
        select(Category).where(Category.site == event.site, Category.code == category, Category.active.is_(True))
    )
    description = raise_request.description
    if known is None:  # keep what the manager wrote rather than lose the request
        description, category = f"[{category}] {description}", "other"
    party = await session.get(Party, event.party_id) if event.party_id else None
    reporter = Reporter(
        party_id=party.id if party else None,
        name=party.name if party else event.manager,
        phone=party.phone if party else None,
        language=party.language if party else "zh-CN",
    )
    try:
        command = RequestCreate(
            site=event.site,
            kind=raise_request.kind,
            channel=Channel.visit,
            category=category,
            priority=raise_request.priority or "normal",
            description=description,
            unit_id=event.unit_id,
            in_unit=bool(raise_request.in_unit),
            reporter=reporter,
        )
        request = await record_request(uow, command, actor=event.manager, caused_by=envelope)
    except (DomainError, ValueError) as exc:
        # Retrying cannot help (an unknown unit, say): dead-letter it with the reason for an operator.
        raise ContractViolation(f"cannot raise a request from visit {event.visit_id}: {exc}") from exc
    uow.session.add(
        timeline_entry(
            request.id, request.unit_id, envelope, f"raised on a home visit by {event.manager}: {event.notes[:200]}"
        )
    )


@subscriptions.on(ChargeRecorded)
async def on_charge_recorded(event: ChargeRecorded, envelope: Envelope, uow: UnitOfWork) -> None:
    amount = event.amount_cents
    await record_progress(
        uow,
        envelope,
        f"charge {amount // 100}.{amount % 100:02d} {event.currency}: {event.item}",
        request_id=event.request_id,
        unit_id=event.unit_id,
    )


@subscriptions.on(MessageSent)
async def on_message_sent(event: MessageSent, envelope: Envelope, uow: UnitOfWork) -> None:
    if event.request_id:
        await record_progress(
            uow,
            envelope,
            f"{event.channel} message {event.template}: {event.status}",
            request_id=event.request_id,
            unit_id=None,  # a message names no unit
        )


def _limit_handler(limit: Limit, stage: str) -> None:
    async def fire(timer: DueTimer, uow: UnitOfWork) -> None:
        await time_limit_reached(uow, timer.key, limit, stage)

    fire.__name__ = f"on_{limit}_{stage}"
    timers.on(timer_kind(limit, stage))(fire)


for _limit in Limit:
    for _stage in STAGES:
        _limit_handler(_limit, _stage)
