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
from pm_platform.consumer import Subscriptions
from pm_platform.contracts import ContractViolation
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import Problem
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()
timers = Timers()

# Work-order states that mean someone is working on the request.
WORKING = frozenset({"accepted", "on_the_way", "on_site"})


@subscriptions.on("dispatch.workorder.created.v1")
async def on_work_order_created(event: Envelope, uow: UnitOfWork) -> None:
    await record_progress(
        uow,
        event,
        f"work order created for {event.data['department']}",
        Status.in_progress,
        department=event.data["department"],
    )


@subscriptions.on("dispatch.workorder.completed.v1")
async def on_work_order_completed(event: Envelope, uow: UnitOfWork) -> None:
    request = await record_progress(
        uow,
        event,
        f"work order completed: {event.data['result']}",
        Status.resolved,
        department=event.data["department"],
    )
    if request is None:
        return
    uow.session.add(
        WorkFact(
            request_id=request.id,
            work_order_id=event.data["work_order_id"],
            kind="work_order_completed",
            event=event.model_dump(mode="json"),
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
                WorkFact.work_order_id == event.data["work_order_id"],
            )
            .order_by(WorkFact.id)
        )
    ).all()
    for fact in waiting:
        fact.applied = True
        followup = Envelope.model_validate(fact.event)
        if fact.kind == "followup_skipped":
            await _apply_skip(uow, request, followup)
        else:
            await _apply_followup(uow, request, followup)


async def _waits_for_completion(uow: UnitOfWork, request: Request, event: Envelope, kind: str) -> bool:
    """Whether a follow-up outcome must wait for its work order's completion, which dispatch's stream has not
    delivered yet (the request is still open and intake has not seen that work order complete); if so it is
    kept as a fact and applied when the completion arrives."""
    work_order_id = event.data.get("work_order_id")
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
            event=event.model_dump(mode="json"),
            applied=False,
            recorded_at=utcnow(),
        )
    )
    return True


@subscriptions.on("dispatch.workorder.status_changed.v1")
async def on_work_order_status_changed(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    summary = f"work order {data['from_status']} → {data['to_status']} ({data['department']})"
    if data.get("assignee"):
        summary += f", assigned to {data['assignee']}"
    if data.get("reason"):
        summary += f": {data['reason']}"
    target = Status.in_progress if data["to_status"] in WORKING else None
    await record_progress(uow, event, summary, target, department=data["department"])


@subscriptions.on("dispatch.workorder.timelimit.v1")
async def on_work_order_time_limit(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    await record_progress(
        uow, event, f"work order {data['limit']} limit {data['stage']} ({data['department']}), due {data['due_at']}"
    )


@subscriptions.on("survey.followup.scheduled.v1")
async def on_followup_scheduled(event: Envelope, uow: UnitOfWork) -> None:
    await record_progress(uow, event, f"follow-up ({event.data['method']}) due {event.data['due_at']}")


@subscriptions.on("survey.followup.completed.v1")
async def on_followup_completed(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    summary = f"follow-up {data['outcome']}" + (f": {data['comment']}" if data.get("comment") else "")
    request = await record_progress(uow, event, summary)
    if request is None or await _waits_for_completion(uow, request, event, "followup_completed"):
        return
    await _apply_followup(uow, request, event)


async def _apply_followup(uow: UnitOfWork, request: Request, event: Envelope) -> None:
    """A failed follow-up reopens and escalates the request (dispatch then creates rework); otherwise the
    request is followed up, and closed when the owner is satisfied."""
    data = event.data
    if data["reopen"]:
        if can_transition(Status(request.status), Status.reopened):
            reason = f"follow-up {data['outcome']}" + (f": {data['comment']}" if data.get("comment") else "")
            await transition(
                uow,
                request,
                Status.reopened,
                actor=None,
                reason=reason,
                caused_by=event,
                department=data.get("department"),
                followup_id=data["followup_id"],
                work_order_id=data.get("work_order_id"),
            )
        return
    if can_transition(Status(request.status), Status.followed_up):
        await transition(uow, request, Status.followed_up, actor=None, caused_by=event)
    if data["outcome"] == "satisfied" and can_transition(Status(request.status), Status.closed):
        await transition(
            uow, request, Status.closed, actor=None, reason="owner satisfied at the follow-up", caused_by=event
        )


# How survey's skip reasons read on a request's history.
SKIP_REASONS = {
    "policy_skip": "the site's policy asks nobody in this category",
    "sampled_out": "not drawn in the site's follow-up sample",
    "already_rated": "the owner already rated this request",
    "contact_budget": "the owner's contact budget is used up",
}


@subscriptions.on("survey.followup.skipped.v1")
async def on_followup_skipped(event: Envelope, uow: UnitOfWork) -> None:
    why = SKIP_REASONS.get(event.data["reason"], event.data["reason"])
    request = await record_progress(uow, event, f"follow-up skipped: {why}")
    if request is None or await _waits_for_completion(uow, request, event, "followup_skipped"):
        return
    await _apply_skip(uow, request, event)


async def _apply_skip(uow: UnitOfWork, request: Request, event: Envelope) -> None:
    """No follow-up will come: a resolved request is closed with the reason (it would wait forever); a request
    in any other status (reopened, already followed up or closed) only records it on its timeline."""
    why = SKIP_REASONS.get(event.data["reason"], event.data["reason"])
    if request.status == Status.resolved:
        await transition(uow, request, Status.closed, actor=None, reason=f"follow-up skipped: {why}", caused_by=event)


@subscriptions.on("survey.visit.recorded.v1")
async def on_visit_recorded(event: Envelope, uow: UnitOfWork) -> None:
    """A manager's home visit found something to do: record it as a request raised on the visit."""
    data = event.data
    raise_request = data.get("raise_request")
    if not raise_request:
        return
    session = uow.session
    category = raise_request["category"]
    known = await session.scalar(
        select(Category).where(Category.site == data["site"], Category.code == category, Category.active.is_(True))
    )
    description = raise_request["description"]
    if known is None:  # keep what the manager wrote rather than lose the request
        description, category = f"[{category}] {description}", "other"
    party = await session.get(Party, data["party_id"]) if data.get("party_id") else None
    reporter = Reporter(
        party_id=party.id if party else None,
        name=party.name if party else data["manager"],
        phone=party.phone if party else None,
        language=party.language if party else "zh-CN",
    )
    try:
        command = RequestCreate(
            site=data["site"],
            kind=raise_request["kind"],
            channel=Channel.visit,
            category=category,
            priority=raise_request.get("priority", "normal"),
            description=description,
            unit_id=data["unit_id"],
            in_unit=raise_request.get("in_unit", False),
            reporter=reporter,
        )
        request = await record_request(uow, command, actor=data["manager"], caused_by=event)
    except (Problem, ValueError) as exc:
        # Retrying cannot help (an unknown unit, say): dead-letter it with the reason for an operator.
        raise ContractViolation(f"cannot raise a request from visit {data['visit_id']}: {exc}") from exc
    uow.session.add(
        timeline_entry(
            request.id, request.unit_id, event, f"raised on a home visit by {data['manager']}: {data['notes'][:200]}"
        )
    )


@subscriptions.on("billing.charge.recorded.v1")
async def on_charge_recorded(event: Envelope, uow: UnitOfWork) -> None:
    amount = event.data["amount_cents"]
    await record_progress(
        uow, event, f"charge {amount // 100}.{amount % 100:02d} {event.data['currency']}: {event.data['item']}"
    )


@subscriptions.on("notification.message.sent.v1")
async def on_message_sent(event: Envelope, uow: UnitOfWork) -> None:
    if event.data.get("request_id"):
        await record_progress(
            uow, event, f"{event.data['channel']} message {event.data['template']}: {event.data['status']}"
        )


def _limit_handler(limit: Limit, stage: str) -> None:
    async def fire(timer: DueTimer, uow: UnitOfWork) -> None:
        await time_limit_reached(uow, timer.key, limit, stage)

    fire.__name__ = f"on_{limit}_{stage}"
    timers.on(timer_kind(limit, stage))(fire)


for _limit in Limit:
    for _stage in STAGES:
        _limit_handler(_limit, _stage)
