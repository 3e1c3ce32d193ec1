"""Decoration permit use cases: the site's settings, the application and its files, the review within the
site's working days, approval (deposit, fee, neighbours, worker passes), the works (inspections, violations, stop
orders, complaints), completion and settlement, and what billing and dispatch did about the permit.

Every step moves the permit through ``TRANSITIONS`` (an illegal one raises 409 before anything changes), emits
``intake.decoration.status_changed.v1`` and adds a line to the unit's timeline."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.decoration.models import (
    DEFAULT_CHECKLIST,
    IN_REVIEW,
    PROCEDURE,
    WORKING,
    Action,
    ComplaintLink,
    DecorationSettings,
    DeductionKind,
    FeeMode,
    Inspection,
    InspectionCreate,
    InspectionKind,
    Permit,
    PermitCreate,
    PermitFile,
    Purpose,
    ReviewCommand,
    ReviewResult,
    SettingsWrite,
    SettleCommand,
    Status,
    Violation,
    ViolationCreate,
    WorkerPass,
    next_status,
)
from intake.decoration.rules import Calendar, Place, add_working_days, fee, neighbours, within
from intake.organization.models import Party, Site, Unit
from intake.organization.service import sees_contacts, site_timezone, site_today
from intake.request.models import Kind, Request
from intake.request.service import is_owner
from intake.request.timeline import procedure_entry
from pm_events.billing import DepositHeld, DepositReturned
from pm_events.dispatch import InspectionCompleted
from pm_events.intake import (
    DecorationApproved,
    DecorationInspectionRequested,
    DecorationSettled,
    DecorationStatusChanged,
)
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import Envelope, as_utc, new_id, utcnow
from pm_platform.errors import Conflict, Forbidden, Invalid, NotFound
from pm_platform.storage import IMAGES, MB, PDF, FileStore, accept, new_key
from pm_platform.timers import cancel, schedule
from pm_platform.uow import UnitOfWork

MAX_FILE_BYTES = 10 * MB
MAX_FILES = 30
STAGES = ("warning", "breach")
CURRENCY = "CNY"


def timer_kind(stage: str) -> str:
    return f"decoration.review.{stage}"


# --- the site's settings --------------------------------------------------------------------------


def default_settings(site: str) -> DecorationSettings:
    return DecorationSettings(
        site=site,
        deposit_cents=200_000,
        fee_mode=FeeMode.per_m2,
        fee_cents=300,
        work_start="08:00",
        work_end="18:00",
        max_workers=20,
        max_days=90,
        review_working_days=2,
        review_warning_hours=4,
        checklist=[dict(item) for item in DEFAULT_CHECKLIST],
        weekdays_off=[6, 7],
        holidays=[],
        workdays=[],
    )


async def settings_for(session: AsyncSession, site: str) -> DecorationSettings:
    """The site's decoration settings, or the group's defaults when the site has none yet."""
    return await session.get(DecorationSettings, site) or default_settings(site)


def calendar_of(settings: DecorationSettings) -> Calendar:
    return Calendar(
        weekdays_off=frozenset(settings.weekdays_off),
        holidays=frozenset(date.fromisoformat(d) for d in settings.holidays),
        workdays=frozenset(date.fromisoformat(d) for d in settings.workdays),
    )


def settings_values(command: SettingsWrite) -> dict[str, Any]:
    values = command.model_dump(mode="json")
    values["checklist"] = [item.model_dump() for item in command.checklist]
    return values


async def save_settings(uow: UnitOfWork, site: str, command: SettingsWrite) -> DecorationSettings:
    session = uow.session
    if await session.get(Site, site) is None:
        raise NotFound("site", site, field="site")
    row = await session.get(DecorationSettings, site)
    if row is None:
        row = DecorationSettings(site=site)
        session.add(row)
    for name, value in settings_values(command).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    await uow.commit()
    return row


# --- a step of the state machine ------------------------------------------------------------------


def _emit_step(
    uow: UnitOfWork,
    permit: Permit,
    current: Status | None,
    action: Action,
    *,
    actor: str | None,
    reason: str | None,
    caused_by: Envelope | None,
    now: datetime,
) -> Envelope:
    changed = DecorationStatusChanged(
        permit_id=permit.id,
        site=permit.site,
        unit_id=permit.unit_id,
        from_status=str(current) if current is not None else None,
        to_status=permit.status,
        action=str(action),
        actor=actor,
        reason=reason,
        changed_at=now.isoformat(),
    )
    return emit(uow, changed, permit, caused_by)


def emit(uow: UnitOfWork, event: Any, permit: Permit, caused_by: Envelope | None) -> Envelope:
    if caused_by is not None:
        return uow.emit(event, subject=permit.id, site=permit.site, caused_by=caused_by)
    return uow.emit(event, subject=permit.id, site=permit.site, correlation_id=permit.id)


def step(
    uow: UnitOfWork,
    permit: Permit,
    action: Action,
    *,
    actor: str | None,
    reason: str | None = None,
    caused_by: Envelope | None = None,
    summary: str | None = None,
) -> Envelope:
    """Move the permit by ``action`` (409 and nothing changed when illegal), emit the change and add it to the
    unit's timeline."""
    current = Status(permit.status)
    target = next_status(current, action)
    now = utcnow()
    permit.status, permit.updated_at = target, now
    event = _emit_step(uow, permit, current, action, actor=actor, reason=reason, caused_by=caused_by, now=now)
    line = summary or f"{current} → {target} ({action})"
    line += (f" by {actor}" if actor else "") + (f": {reason}" if reason else "")
    uow.session.add(procedure_entry(PROCEDURE, permit.id, permit.unit_id, event, str(action), line, event.data))
    return event


def note(permit: Permit, kind: str, summary: str, data: dict[str, Any], event: Envelope | None = None) -> Any:
    """A line in the unit's timeline for a step that is no status change (a file, a pass, a violation)."""
    return procedure_entry(PROCEDURE, permit.id, permit.unit_id, event, f"decoration.{kind}", summary, data)


# --- the application ------------------------------------------------------------------------------


async def apply(uow: UnitOfWork, principal: Principal, command: PermitCreate) -> Permit:
    session = uow.session
    unit = await session.get(Unit, command.unit_id)
    if unit is None:
        raise Invalid(f"unit {command.unit_id} does not exist", field="unit_id")
    principal.check_site(unit.site)
    if is_owner(principal):
        party = await session.get(Party, principal.party_id) if principal.party_id else None
        if party is None or not party.active or party.unit_id != unit.id:
            raise Forbidden(f"unit {unit.id} is not the caller's", field="unit_id")
        if command.party_id not in (None, party.id):
            raise Forbidden("an owner applies for themselves", field="party_id")
    else:
        if command.party_id is None:
            raise Invalid("name the owner applying (party_id)", field="party_id")
        party = await session.get(Party, command.party_id)
        if party is None or not party.active or party.unit_id != unit.id or party.role != "owner":
            raise Invalid(f"party {command.party_id} is not an owner of unit {unit.id}", field="party_id")
    settings = await settings_for(session, unit.site)
    now = utcnow()
    zone = await site_timezone(session, unit.site)
    today = await site_today(session, unit.site, now)
    if command.works_to < command.works_from:
        raise Invalid("works_to must not be before works_from", field="works_to")
    if command.works_from < today:
        raise Invalid("works_from is in the past", field="works_from")
    if (command.works_to - command.works_from).days + 1 > settings.max_days:
        raise Invalid(f"the works may last at most {settings.max_days} days", field="works_to")
    if len(command.workers) > settings.max_workers:
        raise Invalid(f"at most {settings.max_workers} workers", field="workers")
    hours = command.work_hours
    start, end = (hours.start, hours.end) if hours else (settings.work_start, settings.work_end)
    if not within((start, end), (settings.work_start, settings.work_end)):
        raise Invalid(
            f"work hours must lie within the site's {settings.work_start}-{settings.work_end}", field="work_hours"
        )
    permit = Permit(
        id=new_id(),
        site=unit.site,
        unit_id=unit.id,
        status=Status.applied,
        applicant=command.applicant,
        applicant_party_id=party.id,
        applied_by=principal.subject,
        scope=list(command.scope),
        description=command.description,
        contractor=command.contractor.model_dump(),
        workers=[worker.model_dump() for worker in command.workers],
        works_from=command.works_from,
        works_to=command.works_to,
        work_start=start,
        work_end=end,
        review_due_at=add_working_days(now, settings.review_working_days, calendar_of(settings), zone),
        review_warned=False,
        review_breached=False,
        conditions=[],
        reasons=[],
        deposit_status="none",
        deductions=[],
        complaints=[],
        created_at=now,
        updated_at=now,
    )
    session.add(permit)
    await session.flush()
    payload = {"site": permit.site}
    due = permit.review_due_at
    if settings.review_warning_hours > 0:
        warning_at = due - timedelta(hours=settings.review_warning_hours)
        await schedule(uow, timer_kind("warning"), key=permit.id, due_at=max(warning_at, now), payload=payload)
    await schedule(uow, timer_kind("breach"), key=permit.id, due_at=due, payload=payload)
    event = _emit_step(uow, permit, None, Action.apply, actor=principal.subject, reason=None, caused_by=None, now=now)
    summary = (
        f"applied by {principal.subject} for {party.name} ({permit.applicant}), works {permit.works_from} to "
        f"{permit.works_to}; review due {as_utc(due).isoformat()}"
    )
    session.add(procedure_entry(PROCEDURE, permit.id, permit.unit_id, event, "apply", summary, event.data))
    await uow.commit()
    return permit


async def add_file(
    uow: UnitOfWork, store: FileStore, principal: Principal, permit: Permit, purpose: Purpose, content: bytes
) -> PermitFile:
    """Keep a plan, the owner's authorisation or a photo of a violation with the permit."""
    if purpose in (Purpose.plan, Purpose.authorisation) and Status(permit.status) not in IN_REVIEW:
        raise Conflict(f"the permit is {permit.status}: plans are added before the review", field="purpose")
    if Status(permit.status) in (Status.closed, Status.rejected, Status.withdrawn):
        raise Conflict(f"the permit is {permit.status}", field="status")
    count = await uow.session.scalar(
        select(PermitFile.key).where(PermitFile.permit_id == permit.id).limit(1).offset(MAX_FILES - 1)
    )
    if count is not None:
        raise Invalid(f"a permit keeps at most {MAX_FILES} files", field="file")
    kind = accept(content, allowed=IMAGES | {PDF}, max_bytes=MAX_FILE_BYTES, field="file")
    key = new_key(PROCEDURE, permit.site, kind)
    await store.put(key, content, kind.content_type)
    now = utcnow()
    row = PermitFile(
        key=key,
        permit_id=permit.id,
        purpose=purpose,
        content_type=kind.content_type,
        size=len(content),
        uploaded_by=principal.subject,
        uploaded_at=now,
    )
    uow.session.add(row)
    permit.updated_at = now
    uow.session.add(note(permit, "file", f"{purpose} uploaded by {principal.subject}", {"key": key}))
    await uow.commit()
    return row


async def read_file(session: AsyncSession, store: FileStore, permit: Permit, name: str) -> tuple[bytes, str]:
    key = f"{PROCEDURE}/{permit.site}/{name}"
    row = await session.get(PermitFile, key)
    if row is None or row.permit_id != permit.id:
        raise NotFound("file", name, field="file_name")
    return await store.get(key)


# --- the review -----------------------------------------------------------------------------------


def _is_engineering(principal: Principal) -> bool:
    return "manager" in principal.roles or "head_office" in principal.roles or principal.department == "engineering"


async def start_review(uow: UnitOfWork, principal: Principal, permit: Permit) -> Permit:
    if not _is_engineering(principal):
        raise Forbidden("the review is engineering's", field="department")
    step(uow, permit, Action.start_review, actor=principal.subject)
    await uow.commit()
    return permit


async def review(uow: UnitOfWork, principal: Principal, permit: Permit, command: ReviewCommand) -> Permit:
    """Engineering's review: every item of the site's checklist checked; approve, approve with conditions, or
    reject with reasons."""
    if not _is_engineering(principal):
        raise Forbidden("the review is engineering's", field="department")
    action = Action(command.result.value)
    next_status(Status(permit.status), action)  # 409 before anything else
    session = uow.session
    settings = await settings_for(session, permit.site)
    expected = {item["code"] for item in settings.checklist}
    given = [outcome.code for outcome in command.checklist]
    if set(given) != expected or len(given) != len(expected):
        raise Invalid(
            f"check every item of the site's checklist once: {', '.join(sorted(expected))}", field="checklist"
        )
    if command.result is ReviewResult.approve_with_conditions and not command.conditions:
        raise Invalid("approval with conditions lists the conditions", field="conditions")
    if command.result is ReviewResult.reject and not command.reasons:
        raise Invalid("a rejection gives its reasons", field="reasons")
    for text in [*command.conditions, *command.reasons]:
        if not 1 <= len(text) <= 1000:
            raise Invalid("a condition or reason is 1 to 1000 characters", field="conditions")
    if command.result is not ReviewResult.reject:
        purposes = set(
            (await session.scalars(select(PermitFile.purpose).where(PermitFile.permit_id == permit.id))).all()
        )
        if Purpose.plan not in purposes:
            raise Invalid("the permit has no plan or drawing uploaded", field="plans")
        if permit.applicant == "contractor" and Purpose.authorisation not in purposes:
            raise Invalid("a contractor's application needs the owner's authorisation", field="authorisation")
    now = utcnow()
    permit.review = {
        "result": str(command.result),
        "checklist": [outcome.model_dump() for outcome in command.checklist],
        "by": principal.subject,
        "at": now.isoformat(),
    }
    for stage in STAGES:
        await cancel(uow, timer_kind(stage), key=permit.id)
    if command.result is ReviewResult.reject:
        permit.reasons = list(command.reasons)
        step(uow, permit, action, actor=principal.subject, reason="; ".join(command.reasons))
    else:
        permit.conditions = list(command.conditions)
        await _approve(uow, permit, settings, action, principal.subject)
    await uow.commit()
    return permit


async def _approve(uow: UnitOfWork, permit: Permit, settings: DecorationSettings, action: Action, actor: str) -> None:
    session = uow.session
    unit = await session.get(Unit, permit.unit_id)
    assert unit is not None  # a permit's unit is a foreign key
    permit.deposit_cents = settings.deposit_cents
    permit.fee_cents = fee(settings.fee_mode, settings.fee_cents, unit.area_m2)
    building = (await session.scalars(select(Unit).where(Unit.building_id == unit.building_id))).all()
    around = neighbours(
        Place(unit.id, unit.building_id, unit.floor), [Place(u.id, u.building_id, u.floor) for u in building]
    )
    summary = f"approved{' with conditions' if permit.conditions else ''}"
    step(uow, permit, action, actor=actor, summary=summary)
    now = utcnow()
    approved = emit(
        uow,
        DecorationApproved(
            permit_id=permit.id,
            site=permit.site,
            unit_id=permit.unit_id,
            applicant_party_id=permit.applicant_party_id,
            deposit_cents=permit.deposit_cents,
            fee_cents=permit.fee_cents,
            currency=CURRENCY,
            conditions=list(permit.conditions),
            works_from=permit.works_from.isoformat(),
            works_to=permit.works_to.isoformat(),
            work_hours={"start": permit.work_start, "end": permit.work_end},
            contractor_name=permit.contractor.get("company"),
            neighbour_unit_ids=around,
            approved_at=now.isoformat(),
        ),
        permit,
        None,
    )
    session.add(
        note(
            permit,
            "approved",
            f"deposit {money(permit.deposit_cents)}, fee {money(permit.fee_cents)} asked of billing; "
            f"{len(around)} neighbouring units to be told",
            approved.data,
            approved,
        )
    )
    for worker in permit.workers:
        session.add(
            WorkerPass(
                number=new_pass_number(),
                permit_id=permit.id,
                site=permit.site,
                name=worker["name"],
                id_last4=worker["id_last4"].upper(),
                trade=worker["trade"],
                valid_from=permit.works_from,
                valid_to=permit.works_to,
            )
        )
    session.add(note(permit, "passes", f"{len(permit.workers)} worker passes issued", {}))


def new_pass_number() -> str:
    """A pass number security types in: short, and random (it is the only key to the pass)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "DP-" + "".join(secrets.choice(alphabet) for _ in range(10))


def money(cents: int | None) -> str:
    cents = cents or 0
    return f"{cents // 100}.{cents % 100:02d} {CURRENCY}"


async def review_limit_reached(uow: UnitOfWork, permit_id: str, stage: str) -> None:
    """The review's durable timer fired: record the warning or the breach, unless the review is done."""
    permit = await uow.session.get(Permit, permit_id)
    if permit is None or Status(permit.status) not in IN_REVIEW:
        return
    if stage == "breach":
        permit.review_breached = True
        summary = f"review limit breached (due {as_utc(permit.review_due_at).isoformat()})"
    else:
        permit.review_warned = True
        summary = f"review due at {as_utc(permit.review_due_at).isoformat()}"
    uow.session.add(note(permit, f"review_{stage}", summary, {"due_at": as_utc(permit.review_due_at).isoformat()}))


# --- the other steps ------------------------------------------------------------------------------


async def withdraw(uow: UnitOfWork, principal: Principal, permit: Permit, reason: str | None) -> Permit:
    step(uow, permit, Action.withdraw, actor=principal.subject, reason=reason)
    for stage in STAGES:
        await cancel(uow, timer_kind(stage), key=permit.id)
    await uow.commit()
    return permit


async def start_works(uow: UnitOfWork, principal: Principal, permit: Permit) -> Permit:
    next_status(Status(permit.status), Action.start_works)
    if permit.deposit_status != "paid":
        raise Conflict("works may start once the decoration deposit is paid", field="deposit_status")
    step(uow, permit, Action.start_works, actor=principal.subject)
    await uow.commit()
    return permit


async def resume(uow: UnitOfWork, principal: Principal, permit: Permit, reason: str | None) -> Permit:
    """A stop order is lifted after a re-check passed, or by a manager's decision (with a reason)."""
    next_status(Status(permit.status), Action.resume)
    rechecked = await uow.session.scalar(
        select(Inspection.id).where(
            Inspection.permit_id == permit.id,
            Inspection.kind == InspectionKind.recheck,
            Inspection.status == "passed",
            Inspection.completed_at >= (permit.stopped_at or permit.created_at),
        )
    )
    if rechecked is None:
        if "manager" not in principal.roles:
            raise Conflict("works resume after a passed re-check or by a manager's decision", field="status")
        if not reason:
            raise Invalid("a manager's decision gives its reason", field="reason")
    step(uow, permit, Action.resume, actor=principal.subject, reason=reason)
    await uow.commit()
    return permit


async def request_inspection(
    uow: UnitOfWork, permit: Permit, kind: InspectionKind, *, actor: str, due_at: datetime | None, note_: str | None
) -> Inspection:
    """Ask dispatch for an inspection with the site's checklist."""
    session = uow.session
    settings = await settings_for(session, permit.site)
    now = utcnow()
    zone = await site_timezone(session, permit.site)
    due = as_utc(due_at) if due_at else add_working_days(now, 1, calendar_of(settings), zone)
    if due <= now:
        raise Invalid("due_at must be in the future", field="due_at")
    inspection = Inspection(
        id=new_id(),
        permit_id=permit.id,
        kind=kind,
        status="requested",
        checklist=[dict(item) for item in settings.checklist],
        note=note_,
        due_at=due,
        requested_by=actor,
        requested_at=now,
        items=[],
    )
    session.add(inspection)
    event = emit(
        uow,
        DecorationInspectionRequested(
            inspection_id=inspection.id,
            permit_id=permit.id,
            site=permit.site,
            unit_id=permit.unit_id,
            kind=str(kind),
            checklist=inspection.checklist,
            due_at=due.isoformat(),
            note=note_,
            requested_at=now.isoformat(),
        ),
        permit,
        None,
    )
    session.add(note(permit, "inspection_requested", f"{kind} inspection requested by {actor}", event.data, event))
    return inspection


async def schedule_inspection(
    uow: UnitOfWork, principal: Principal, permit: Permit, command: InspectionCreate
) -> Inspection:
    if command.kind is InspectionKind.completion:
        raise Invalid("the completion inspection is asked by POST .../completion", field="kind")
    if Status(permit.status) not in (Status.in_works, Status.stopped):
        raise Conflict(f"the permit is {permit.status}: inspections are during the works", field="status")
    inspection = await request_inspection(
        uow, permit, command.kind, actor=principal.subject, due_at=command.due_at, note_=command.note
    )
    await uow.commit()
    return inspection


async def request_completion(uow: UnitOfWork, principal: Principal, permit: Permit) -> Permit:
    step(uow, permit, Action.request_completion, actor=principal.subject)
    await request_inspection(uow, permit, InspectionKind.completion, actor=principal.subject, due_at=None, note_=None)
    await uow.commit()
    return permit


async def record_violation(
    uow: UnitOfWork, principal: Principal, permit: Permit, command: ViolationCreate
) -> Violation:
    if Status(permit.status) not in (Status.in_works, Status.stopped, Status.completion_requested):
        raise Conflict(f"the permit is {permit.status}: violations are recorded during the works", field="status")
    if command.stop_order:
        next_status(Status(permit.status), Action.stop)
    session = uow.session
    for key in command.photos:
        row = await session.get(PermitFile, key)
        if row is None or row.permit_id != permit.id or row.purpose != Purpose.photo:
            raise Invalid(f"{key} is not a photo uploaded to this permit", field="photos")
    violation = _violation(
        permit,
        command.description,
        photos=list(command.photos),
        stop_order=command.stop_order,
        fine_cents=command.fine_cents,
        fine_reason=command.fine_reason,
        actor=principal.subject,
    )
    session.add(violation)
    summary = f"violation recorded by {principal.subject}: {command.description}"
    if command.fine_cents:
        summary += f"; fine {money(command.fine_cents)} ({command.fine_reason})"
    session.add(note(permit, "violation", summary, {"violation_id": violation.id, "fine_cents": command.fine_cents}))
    if command.stop_order:
        permit.stopped_at = utcnow()
        step(uow, permit, Action.stop, actor=principal.subject, reason=command.description, summary="stop order")
    await uow.commit()
    return violation


def _violation(
    permit: Permit,
    description: str,
    *,
    photos: list[str],
    actor: str | None,
    stop_order: bool = False,
    fine_cents: int | None = None,
    fine_reason: str | None = None,
    inspection_id: str | None = None,
) -> Violation:
    return Violation(
        id=new_id(),
        permit_id=permit.id,
        description=description,
        photos=photos,
        inspection_id=inspection_id,
        stop_order=stop_order,
        fine_cents=fine_cents,
        fine_reason=fine_reason,
        recorded_by=actor,
        recorded_at=utcnow(),
    )


async def link_complaint(uow: UnitOfWork, principal: Principal, permit: Permit, command: ComplaintLink) -> Permit:
    request = await uow.session.get(Request, command.request_id)
    if request is None or request.site != permit.site or request.kind != Kind.complaint:
        raise Invalid(f"{command.request_id} is not a complaint of site {permit.site}", field="request_id")
    if any(link["request_id"] == request.id for link in permit.complaints):
        raise Conflict(f"complaint {request.id} is already linked", field="request_id")
    now = utcnow()
    link = {"request_id": request.id, "unit_id": request.unit_id, "linked_by": principal.subject, "at": now.isoformat()}
    permit.complaints = [*permit.complaints, link]
    permit.updated_at = now
    uow.session.add(note(permit, "complaint", f"complaint {request.id} linked: {request.description[:200]}", link))
    await uow.commit()
    return permit


async def settle(uow: UnitOfWork, principal: Principal, permit: Permit, command: SettleCommand) -> Permit:
    """The deposit's return asked of billing: the fines recorded, plus the staff's deductions, each with its
    reason."""
    next_status(Status(permit.status), Action.settle)
    fines = (
        await uow.session.scalars(
            select(Violation).where(Violation.permit_id == permit.id, Violation.fine_cents.is_not(None))
        )
    ).all()
    deductions = [
        {"kind": str(DeductionKind.fine), "reason": v.fine_reason or v.description[:500], "amount_cents": v.fine_cents}
        for v in fines
    ] + [d.model_dump(mode="json") for d in command.deductions]
    total = sum(int(d["amount_cents"]) for d in deductions)
    if total > (permit.deposit_cents or 0):
        raise Invalid(f"deductions {money(total)} exceed the deposit {money(permit.deposit_cents)}", field="deductions")
    permit.deductions = deductions
    now = utcnow()
    step(uow, permit, Action.settle, actor=principal.subject, summary=f"settled: deductions {money(total)}")
    settled = emit(
        uow,
        DecorationSettled(
            permit_id=permit.id,
            site=permit.site,
            unit_id=permit.unit_id,
            deductions=deductions,
            settled_at=now.isoformat(),
        ),
        permit,
        None,
    )
    reasons = "; ".join(f"{d['reason']} {money(int(d['amount_cents']))}" for d in deductions) or "none"
    uow.session.add(
        note(permit, "settled", f"deposit return asked of billing; deductions: {reasons}", settled.data, settled)
    )
    await uow.commit()
    return permit


# --- passes ---------------------------------------------------------------------------------------


async def revoke_pass(uow: UnitOfWork, principal: Principal, number: str, reason: str | None) -> WorkerPass:
    worker_pass = await get_in_scope(uow.session, WorkerPass, number, principal, what="pass")
    if worker_pass.revoked_at is not None:
        raise Conflict(f"pass {number} is already revoked", field="number")
    if not reason:
        raise Invalid("a revocation gives its reason", field="reason")
    worker_pass.revoked_at, worker_pass.revoke_reason = utcnow(), reason
    permit = await uow.session.get(Permit, worker_pass.permit_id)
    assert permit is not None
    uow.session.add(note(permit, "pass_revoked", f"pass {number} ({worker_pass.name}) revoked: {reason}", {}))
    await uow.commit()
    return worker_pass


async def check_pass(
    session: AsyncSession, principal: Principal, number: str
) -> tuple[WorkerPass, Permit, Unit, str | None]:
    """A pass at the gate: the pass, its permit and unit, and why it is not valid now (None when it is)."""
    worker_pass = await get_in_scope(session, WorkerPass, number, principal, what="pass")
    permit = await session.get(Permit, worker_pass.permit_id)
    unit = await session.get(Unit, permit.unit_id) if permit else None
    assert permit is not None and unit is not None
    today = await site_today(session, permit.site)
    why: str | None = None
    if worker_pass.revoked_at is not None:
        why = "revoked"
    elif not worker_pass.valid_from <= today <= worker_pass.valid_to:
        why = "outside its validity"
    elif Status(permit.status) not in WORKING:
        why = "works stopped" if permit.status == Status.stopped else "no works under way"
    return worker_pass, permit, unit, why


# --- what billing and dispatch did ----------------------------------------------------------------


async def _permit_for(uow: UnitOfWork, permit_id: str) -> Permit | None:
    return await uow.session.get(Permit, permit_id, with_for_update=True)


async def deposit_held(uow: UnitOfWork, event: DepositHeld, envelope: Envelope) -> None:
    if event.purpose != "decoration":
        return
    permit = await _permit_for(uow, event.reference)
    if permit is None:
        return
    permit.deposit_id = event.deposit_id
    if event.status == "paid":
        permit.deposit_status = "paid"
        summary = f"deposit {money(event.amount_cents)} paid"
    else:
        if permit.deposit_status != "paid":  # a late "requested" never undoes the payment
            permit.deposit_status = "requested"
        summary = f"deposit {money(event.amount_cents)} requested by billing"
    permit.updated_at = utcnow()
    uow.session.add(note(permit, "deposit", summary, envelope.data, envelope))


async def deposit_returned(uow: UnitOfWork, event: DepositReturned, envelope: Envelope) -> None:
    if event.purpose != "decoration":
        return
    permit = await _permit_for(uow, event.reference)
    if permit is None:
        return
    permit.deposit_status = "returned"
    permit.returned_cents = event.returned_cents
    reasons = "; ".join(f"{d.reason} {money(d.amount_cents)}" for d in event.deductions or []) or "no deductions"
    summary = (
        f"deposit returned: {money(event.returned_cents)} of {money(event.held_cents)} "
        f"(deducted {money(event.deducted_cents)}: {reasons})"
    )
    if Status(permit.status) is Status.settled:
        step(uow, permit, Action.close, actor=None, caused_by=envelope, summary=summary)
    else:
        uow.session.add(note(permit, "deposit_returned", summary, envelope.data, envelope))


async def inspection_completed(uow: UnitOfWork, event: InspectionCompleted, envelope: Envelope) -> None:
    permit = await _permit_for(uow, event.permit_id)
    if permit is None:
        return
    inspection = await uow.session.get(Inspection, event.inspection_id)
    items = [item.model_dump(mode="json") for item in event.items]
    kind = inspection.kind if inspection is not None and inspection.permit_id == permit.id else None
    if inspection is not None and kind is not None:
        inspection.status, inspection.items = event.result, items
        inspection.work_order_id, inspection.inspector = event.work_order_id, event.inspector
        inspection.completed_at = utcnow()
    failed = [item for item in event.items if not item.ok]
    summary = f"{kind or 'an'} inspection {event.result}" + (f" by {event.inspector}" if event.inspector else "")
    if failed:
        summary += ": " + "; ".join(f"{item.code}" + (f" ({item.note})" if item.note else "") for item in failed)
    uow.session.add(note(permit, "inspection", summary, envelope.data, envelope))
    if event.result == "violation":
        for item in failed or []:
            uow.session.add(
                _violation(
                    permit,
                    f"{item.code}: {item.note}" if item.note else item.code,
                    photos=list(event.photos or []),
                    actor=event.inspector,
                    inspection_id=event.inspection_id,
                )
            )
    if kind == InspectionKind.completion and Status(permit.status) is Status.completion_requested:
        action = Action.pass_completion if event.result == "passed" else Action.fail_completion
        step(uow, permit, action, actor=None, caused_by=envelope)


# --- reading --------------------------------------------------------------------------------------


def own_only(principal: Principal) -> bool:
    return is_owner(principal)


def check_department(principal: Principal) -> None:
    """Of the department workers only engineering's (who review and inspect) read decoration permits."""
    if "worker" in principal.roles and not sees_contacts(principal) and principal.department != "engineering":
        raise Forbidden("decoration permits are engineering's among the departments", field="department")


async def get_permit(
    session: AsyncSession, principal: Principal, permit_id: str, *, for_update: bool = False
) -> Permit:
    check_department(principal)
    permit = await get_in_scope(session, Permit, permit_id, principal, what="decoration permit", for_update=for_update)
    if own_only(principal) and permit.applicant_party_id != principal.party_id:
        raise Forbidden(f"decoration permit {permit_id} is not the caller's", field="permit_id")
    return permit


def overdue_clause(now: datetime) -> Any:
    in_review = Permit.status.in_([s.value for s in IN_REVIEW])
    return and_(in_review, or_(Permit.review_due_at < now, Permit.review_breached.is_(True)))


async def list_permits(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    status: str | None,
    unit_id: str | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Permit], int]:
    check_department(principal)
    query = select(Permit).where(principal.site_filter(Permit.site, site))
    if own_only(principal):
        query = query.where(Permit.applicant_party_id == principal.party_id)
    if status:
        query = query.where(Permit.status == status)
    if unit_id:
        query = query.where(Permit.unit_id == unit_id)
    if overdue is not None:
        clause = overdue_clause(utcnow())
        query = query.where(clause if overdue else ~clause)
    return await fetch_page(session, query, Permit.created_at.desc(), Permit.id, limit=limit, offset=offset)


async def parts(session: AsyncSession, permit: Permit) -> dict[str, Any]:
    """The permit's files, passes, inspections and violations."""

    async def of(model: Any, order: Any) -> list[Any]:
        return list((await session.scalars(select(model).where(model.permit_id == permit.id).order_by(order))).all())

    return {
        "files": await of(PermitFile, PermitFile.uploaded_at),
        "passes": await of(WorkerPass, WorkerPass.number),
        "inspections": await of(Inspection, Inspection.requested_at),
        "violations": await of(Violation, Violation.recorded_at),
    }


async def unit_and_party(session: AsyncSession, permit: Permit) -> tuple[Unit, Party | None, Site | None]:
    unit = await session.get(Unit, permit.unit_id)
    assert unit is not None
    return unit, await session.get(Party, permit.applicant_party_id), await session.get(Site, permit.site)
