"""Dunning use cases: the site's ladder, the run that takes each unit in arrears to the step its days overdue have
reached (once per step and arrears episode, never skipping back, holding for an open valid complaint), the
manager's approval of a formal letter to an extra-care household, and the contacts logged against a step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.account.service import site_currency, site_ledgers, unit_ledger
from billing.directory.models import PHONE_ROLES, Party, Unit, payer_read, unit_read
from billing.directory.service import payers, site_timezone, site_today
from billing.dunning.models import (
    ACTIONS,
    DEFAULT_LADDER,
    ComplaintHold,
    ContactCreate,
    ContactRead,
    DunningContact,
    DunningLadder,
    DunningRunRead,
    DunningStep,
    HeldUnit,
    Installment,
    InstallmentPlan,
    LadderRead,
    LadderStep,
    LadderUpdate,
    LetterRead,
    OverdueLine,
    PlanCancel,
    PlanCreate,
    PlanRead,
    PlanStatus,
    StepRead,
    StepStatus,
)
from billing.payment.models import Payment
from billing.refund.models import Refund, RefundStatus
from pm_events import billing as events
from pm_events.intake import RequestClassified, RequestStatusChanged
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Invalid
from pm_platform.sitetime import local_date, zone
from pm_platform.timers import DueTimer, Timers, schedule
from pm_platform.uow import UnitOfWork

timers = Timers()
DAILY_RUN_TIMER = "billing.dunning.daily_run"
# The daily run takes its steps at this local hour: notices reach owners in the morning, not at midnight, and the
# agents find the day's calls waiting when they start.
DAILY_RUN_AT = time(9, 0)

# A complaint in one of these is no longer open: dunning may go on.
SETTLED = frozenset({"resolved", "followed_up", "closed", "cancelled"})
# Steps that are done once sent; the others wait for a contact logged against them.
SENT = frozenset({"notice", "reminder"})

# --- the rule ----------------------------------------------------------------------------------------


def step_due(ladder: Sequence[LadderStep], days_overdue: int) -> LadderStep | None:
    """The furthest step a unit's days overdue have reached (a unit found 95 days late gets the letter, not every
    step before it at once)."""
    return max((s for s in ladder if s.days <= days_overdue), key=lambda s: s.days, default=None)


def next_step(ladder: Sequence[LadderStep], days_overdue: int, taken: set[str]) -> LadderStep | None:
    """The step to take now, or None: the one reached, unless it or a later one was taken in this episode."""
    due = step_due(ladder, days_overdue)
    if due is None:
        return None
    rank: dict[str, int] = {s.action: n for n, s in enumerate(ladder)}
    if any(rank.get(action, -1) >= rank[due.action] for action in taken):
        return None
    return due


# --- the ladder --------------------------------------------------------------------------------------


async def ladder_of(session: AsyncSession, site: str) -> list[LadderStep]:
    row = await session.get(DunningLadder, site)
    if row is None:
        return [LadderStep(days=days, action=action) for days, action in DEFAULT_LADDER]
    return [LadderStep.model_validate(step) for step in row.steps]


async def ladder_read(session: AsyncSession, site: str) -> LadderRead:
    row = await session.get(DunningLadder, site)
    return LadderRead(
        site=site,
        steps=await ladder_of(session, site),
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


async def put_ladder(uow: UnitOfWork, principal: Principal, site: str, body: LadderUpdate) -> None:
    row = await uow.session.get(DunningLadder, site)
    if row is None:
        row = DunningLadder(site=site)
        uow.session.add(row)
    row.steps = [step.model_dump() for step in body.steps]
    row.updated_by, row.updated_at = principal.subject, utcnow()
    await watch_daily(uow, site)
    await uow.commit()


# --- complaints hold dunning -------------------------------------------------------------------------


async def hold_for_complaint(
    uow: UnitOfWork, request_id: str, site: str, unit_id: str, open_: bool, at: datetime
) -> None:
    """Keep whether a unit's valid complaint is open; an older change arriving late is ignored."""
    row = await uow.session.get(ComplaintHold, request_id)
    if row is not None and as_utc(row.changed_at) > at:
        return
    if row is None:
        row = ComplaintHold(request_id=request_id, site=site, unit_id=unit_id)
        uow.session.add(row)
    row.open, row.changed_at = open_, at


async def on_classified(uow: UnitOfWork, event: RequestClassified) -> None:
    if event.complaint_class == "valid" and event.unit_id:
        at = datetime.fromisoformat(event.classified_at)
        await hold_for_complaint(uow, event.request_id, event.site, event.unit_id, True, at)


async def on_status_changed(uow: UnitOfWork, event: RequestStatusChanged) -> None:
    if event.complaint_class == "valid" and event.unit_id:
        at = datetime.fromisoformat(event.changed_at)
        open_ = event.to_status not in SETTLED
        await hold_for_complaint(uow, event.request_id, event.site, event.unit_id, open_, at)


# --- instalment plans -------------------------------------------------------------------------------


def schedule_of(plan: InstallmentPlan) -> list[Installment]:
    return [Installment.model_validate(i) for i in plan.schedule]


def standing(plan: InstallmentPlan, paid_cents: int, today: date) -> PlanStatus:
    """Completed once all of it is paid; broken once less is paid than the instalments due before today asked for;
    active otherwise (an instalment due today may still be paid today)."""
    if paid_cents >= plan.total_cents:
        return PlanStatus.completed
    if paid_cents < sum(i.amount_cents for i in schedule_of(plan) if i.due < today):
        return PlanStatus.broken
    return PlanStatus.active


async def paid_since(session: AsyncSession, plans: Sequence[InstallmentPlan]) -> dict[str, int]:
    """Per plan, what its unit paid (less refunds) since it was agreed."""
    paid = {plan.id: 0 for plan in plans}
    if not plans:
        return paid
    units = {plan.unit_id for plan in plans}
    payments = (
        await session.scalars(select(Payment).where(Payment.unit_id.in_(units), Payment.voided_at.is_(None)))
    ).all()
    refunds = (
        await session.scalars(
            select(Refund).where(Refund.unit_id.in_(units), Refund.status == RefundStatus.approved.value)
        )
    ).all()
    for plan in plans:
        since = as_utc(plan.agreed_at)
        paid[plan.id] = sum(
            p.amount_cents for p in payments if p.unit_id == plan.unit_id and as_utc(p.received_at) >= since
        ) - sum(
            r.amount_cents
            for r in refunds
            if r.unit_id == plan.unit_id and r.decided_at is not None and as_utc(r.decided_at) >= since
        )
    return paid


def plan_read(plan: InstallmentPlan, paid_cents: int | None = None, today: date | None = None) -> PlanRead:
    installments = schedule_of(plan)
    return PlanRead(
        id=plan.id,
        site=plan.site,
        unit_id=plan.unit_id,
        total_cents=plan.total_cents,
        installments=installments,
        status=PlanStatus(plan.status),
        note=plan.note,
        agreed_by=plan.agreed_by,
        agreed_at=plan.agreed_at,
        paid_cents=paid_cents,
        due_by_now_cents=sum(i.amount_cents for i in installments if i.due < today) if today else None,
        cancelled_by=plan.cancelled_by,
        cancelled_at=plan.cancelled_at,
        cancel_reason=plan.cancel_reason,
    )


async def create_plan(uow: UnitOfWork, principal: Principal, body: PlanCreate) -> InstallmentPlan:
    """Agree instalments for a unit's arrears: together they cover what is overdue, the first falls due today or
    later; one active plan per unit."""
    principal.check_site(body.site)
    today = await site_today(uow.session, body.site)
    overdue = (await site_ledgers(uow.session, body.site, today, [body.unit_id]))[body.unit_id].overdue_cents
    if overdue <= 0:
        raise Conflict(f"unit {body.unit_id} has nothing overdue to pay in instalments", field="unit_id")
    total = sum(i.amount_cents for i in body.installments)
    if total < overdue:
        raise Invalid(f"the instalments ({total}) must cover what is overdue ({overdue})", field="installments")
    if body.installments[0].due < today:
        raise Invalid("the first instalment cannot fall due in the past", field="installments")
    active = await uow.session.scalar(
        select(func.count())
        .select_from(InstallmentPlan)
        .where(InstallmentPlan.unit_id == body.unit_id, InstallmentPlan.status == PlanStatus.active.value)
    )
    if active:
        raise Conflict(f"unit {body.unit_id} has an active instalment plan already", field="unit_id")
    plan = InstallmentPlan(
        id=new_id(),
        site=body.site,
        unit_id=body.unit_id,
        total_cents=total,
        schedule=[i.model_dump(mode="json") for i in body.installments],
        status=PlanStatus.active.value,
        note=body.note,
        agreed_by=principal.subject,
        agreed_at=utcnow(),
    )
    uow.session.add(plan)
    await uow.commit()
    return plan


async def cancel_plan(uow: UnitOfWork, principal: Principal, plan_id: str, body: PlanCancel) -> InstallmentPlan:
    """End an active plan (who, when, why): the ladder goes on from the next morning's run, and the unit may agree
    another plan, which is how a plan's terms are revised."""
    plan = await get_in_scope(uow.session, InstallmentPlan, plan_id, principal, what="instalment plan", for_update=True)
    if plan.status != PlanStatus.active.value:
        raise Conflict(f"the plan is {plan.status}: only an active plan is cancelled", field="plan_id")
    plan.status = PlanStatus.cancelled.value
    plan.cancelled_by = principal.subject
    plan.cancelled_at = utcnow()
    plan.cancel_reason = body.reason
    await uow.commit()
    return plan


async def list_plans(
    session: AsyncSession, principal: Principal, *, site: str, unit_id: str | None, limit: int, offset: int
) -> tuple[list[PlanRead], int]:
    query = select(InstallmentPlan).where(principal.site_filter(InstallmentPlan.site, site))
    if unit_id:
        query = query.where(InstallmentPlan.unit_id == unit_id)
    rows, total = await fetch_page(
        session, query, InstallmentPlan.agreed_at.desc(), InstallmentPlan.id, limit=limit, offset=offset
    )
    paid = await paid_since(session, rows)
    today = await site_today(session, site)
    return [plan_read(p, paid[p.id], today) for p in rows], total


async def keep_plans(session: AsyncSession, site: str, today: date) -> set[str]:
    """Bring the site's active plans up to date (completed, broken); the units whose plan still holds."""
    plans = (
        await session.scalars(
            select(InstallmentPlan).where(
                InstallmentPlan.site == site, InstallmentPlan.status == PlanStatus.active.value
            )
        )
    ).all()
    paid = await paid_since(session, plans)
    holding: set[str] = set()
    for plan in plans:
        plan.status = standing(plan, paid[plan.id], today).value
        if plan.status == PlanStatus.active:
            holding.add(plan.unit_id)
    return holding


# --- the run -----------------------------------------------------------------------------------------


def step_read(step: DunningStep, contacts: Sequence[DunningContact] = ()) -> StepRead:
    read = StepRead.model_validate(step, from_attributes=True)
    read.contacts = [ContactRead.model_validate(c, from_attributes=True) for c in contacts]
    return read


def _emit(uow: UnitOfWork, step: DunningStep, currency: str) -> None:
    uow.emit(
        events.DunningStep(
            step_id=step.id,
            site=step.site,
            unit_id=step.unit_id,
            action=next(a for a in ACTIONS if a == step.action),
            days_overdue=step.days_overdue,
            overdue_cents=step.overdue_cents,
            currency=currency,
            oldest_due=step.episode.isoformat(),
            payer_party_id=step.payer_party_id,
        ),
        subject=step.id,
        site=step.site,
        correlation_id=step.unit_id,
    )


async def run(uow: UnitOfWork, principal: Principal, site: str) -> DunningRunRead:
    """A clerk's run now (the daily timer runs it too): taking nothing twice, it only brings the morning's forward."""
    result = await take_steps(uow, site, await site_today(uow.session, site))
    await watch_daily(uow, site)
    await uow.commit()
    return result


def next_daily_run(now: datetime, timezone: str | None) -> datetime:
    """The next DAILY_RUN_AT at the site after ``now`` (UTC)."""
    today = local_date(now, timezone)
    at = datetime.combine(today, DAILY_RUN_AT, tzinfo=zone(timezone))
    if at <= now:
        at = datetime.combine(today + timedelta(days=1), DAILY_RUN_AT, tzinfo=zone(timezone))
    return at.astimezone(UTC)


async def watch_daily(uow: UnitOfWork, site: str) -> None:
    """Keep the site's daily dunning run scheduled (one timer per site, moved to the next morning each time)."""
    due_at = next_daily_run(utcnow(), await site_timezone(uow.session, site))
    await schedule(uow, DAILY_RUN_TIMER, key=site, due_at=due_at, payload={"site": site})


@timers.on(DAILY_RUN_TIMER)
async def on_daily_run(timer: DueTimer, uow: UnitOfWork) -> None:
    """The morning's run, then the next morning's timer (in the same commit: a crash fires this one again)."""
    site = timer.payload["site"]
    timezone = await site_timezone(uow.session, site)
    # A timer fired late (the service was down) still runs for the day it was due, and the next one is tomorrow's.
    today = max(local_date(utcnow(), timezone), local_date(timer.due_at, timezone))
    await take_steps(uow, site, today)
    await watch_daily(uow, site)


async def take_steps(uow: UnitOfWork, site: str, today: date) -> DunningRunRead:
    """Take every unit in arrears to the step its days overdue have reached, as of the site's ``today``: a step is
    taken once per arrears episode, so running again the same day takes nothing twice. The caller commits."""
    session = uow.session
    ladder = await ladder_of(session, site)
    arrears = {
        u: ledger for u, ledger in (await site_ledgers(session, site, today)).items() if ledger.overdue_cents > 0
    }
    held_units = set(
        (
            await session.scalars(select(ComplaintHold.unit_id).where(ComplaintHold.site == site, ComplaintHold.open))
        ).all()
    )
    on_plan = await keep_plans(session, site, today)
    taken: dict[tuple[str, object], set[str]] = {}
    for unit_id, episode, action in (
        await session.execute(
            select(DunningStep.unit_id, DunningStep.episode, DunningStep.action).where(DunningStep.site == site)
        )
    ).all():
        taken.setdefault((unit_id, episode), set()).add(action)
    units = {u.id: u for u in (await session.scalars(select(Unit).where(Unit.site == site))).all()}
    paying = await payers(session, units, sorted(arrears))
    currency = await site_currency(session, site)
    steps: list[DunningStep] = []
    held: list[HeldUnit] = []
    now = utcnow()
    for unit_id, ledger in sorted(arrears.items()):
        assert ledger.oldest_due is not None  # in arrears: something is overdue
        step = next_step(ladder, ledger.days_overdue, taken.get((unit_id, ledger.oldest_due), set()))
        if step is None:
            continue
        if unit_id in held_units or unit_id in on_plan:
            reason = "complaint" if unit_id in held_units else "installment_plan"
            held.append(HeldUnit(unit_id=unit_id, reason=reason, days_overdue=ledger.days_overdue))
            continue
        payer = paying.get(unit_id)
        extra_care = bool(payer and payer.extra_care)
        if step.action == "letter" and extra_care:
            status = StepStatus.awaiting_approval
        else:
            status = StepStatus.done if step.action in SENT else StepStatus.open
        record = DunningStep(
            id=new_id(),
            site=site,
            unit_id=unit_id,
            episode=ledger.oldest_due,
            action=step.action,
            days_overdue=ledger.days_overdue,
            overdue_cents=ledger.overdue_cents,
            payer_party_id=payer.id if payer else None,
            extra_care=extra_care,
            status=status.value,
            created_at=now,
        )
        session.add(record)
        steps.append(record)
        if status != StepStatus.awaiting_approval:
            _emit(uow, record, currency)
    await session.flush()
    return DunningRunRead(
        site=site, as_of=today, in_arrears=len(arrears), steps=[step_read(s) for s in steps], held=held
    )


async def approve_letter(uow: UnitOfWork, principal: Principal, step_id: str) -> DunningStep:
    """A manager lets the formal letter go to an extra-care household."""
    step = await get_in_scope(uow.session, DunningStep, step_id, principal, what="dunning step", for_update=True)
    if step.status != StepStatus.awaiting_approval:
        raise Conflict(f"dunning step {step_id} is {step.status}: nothing to approve", field="status")
    step.status, step.approved_by, step.approved_at = StepStatus.open.value, principal.subject, utcnow()
    _emit(uow, step, await site_currency(uow.session, step.site))
    await uow.commit()
    return step


async def read_letter(session: AsyncSession, principal: Principal, step: DunningStep) -> LetterRead:
    """A formal letter's step with its addressee and the unit's charges overdue today, as the letter prints them."""
    if step.action != "letter":
        raise Conflict(f"dunning step {step.id} is a {step.action}, not a formal letter", field="action")
    today = await site_today(session, step.site)
    ledger = await unit_ledger(session, step.site, step.unit_id, today)
    overdue = [
        OverdueLine(
            charge_id=c.id,
            fee_item=c.fee_item or c.kind,
            item=c.item,
            due_date=c.due_date,
            outstanding_cents=ledger.outstanding[c.id],
        )
        for c in sorted(ledger.charges, key=lambda c: (c.due_date, c.id))
        if ledger.outstanding.get(c.id) and c.due_date < today
    ]
    unit = await session.get(Unit, step.unit_id)
    payer = await session.get(Party, step.payer_party_id) if step.payer_party_id else None
    return LetterRead(
        step=step_read(step, (await contacts_of(session, [step.id]))[step.id]),
        currency=await site_currency(session, step.site),
        unit=unit_read(unit) if unit else None,
        # The letter goes to the payer: their full phone number, as the clerks who send it see it.
        payer=payer_read(payer, full_phone=principal.has_any(PHONE_ROLES)) if payer else None,
        as_of=today,
        overdue=overdue,
        overdue_cents=ledger.overdue_cents,
    )


async def log_contact(uow: UnitOfWork, principal: Principal, step_id: str, body: ContactCreate) -> DunningStep:
    """A call made, a visit paid, a letter delivered: with its outcome; the step is done."""
    step = await get_in_scope(uow.session, DunningStep, step_id, principal, what="dunning step", for_update=True)
    if step.status == StepStatus.awaiting_approval:
        raise Conflict(f"the letter of step {step_id} waits for a manager's approval", field="status")
    if body.outcome == "promised" and body.promised_on is None:
        raise Conflict("a promise to pay names the day", field="promised_on")
    uow.session.add(
        DunningContact(
            id=new_id(),
            step_id=step.id,
            channel=body.channel,
            outcome=body.outcome,
            note=body.note,
            promised_on=body.promised_on,
            made_by=principal.subject,
            made_at=utcnow(),
        )
    )
    step.status = StepStatus.done.value
    await uow.commit()
    return step


async def contacts_of(session: AsyncSession, step_ids: Sequence[str]) -> dict[str, list[DunningContact]]:
    found: dict[str, list[DunningContact]] = {step_id: [] for step_id in step_ids}
    if step_ids:
        rows = await session.scalars(
            select(DunningContact).where(DunningContact.step_id.in_(list(step_ids))).order_by(DunningContact.made_at)
        )
        for contact in rows.all():
            found[contact.step_id].append(contact)
    return found


async def list_steps(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str,
    status: StepStatus | None,
    action: str | None,
    unit_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StepRead], int]:
    query = select(DunningStep).where(principal.site_filter(DunningStep.site, site))
    if status is not None:
        query = query.where(DunningStep.status == status.value)
    if action:
        query = query.where(DunningStep.action == action)
    if unit_id:
        query = query.where(DunningStep.unit_id == unit_id)
    rows, total = await fetch_page(
        session, query, DunningStep.created_at.desc(), DunningStep.id, limit=limit, offset=offset
    )
    contacts = await contacts_of(session, [s.id for s in rows])
    return [step_read(s, contacts[s.id]) for s in rows], total
