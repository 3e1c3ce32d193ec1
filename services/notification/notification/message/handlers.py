"""Subscribers: tell owners what happened to their requests (and the agents' replies), work orders, charges
and surveys, and tell staff about new work orders, time limits and valid complaints. Messages are recorded
here (queued or suppressed) in the event's transaction and sent by the sender job after commit; the inbox
makes a repeated event a no-op."""

# Chinese texts use Chinese (full-width) punctuation.
# ruff: noqa: RUF001

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notification.config import config_of
from notification.contact.models import Party, RequestContact, StaffMember, StaffRole
from notification.contact.service import find_request, remember_request, staff_for, supervisors_of
from notification.message.service import Notice, notify, party_recipient, reporter_recipient, staff_recipient
from notification.preference.models import Category
from notification.template.defaults import (
    DEPARTMENTS,
    LANGUAGES,
    LIMITS,
    REQUEST_STATUSES,
    STAGES,
    WORKORDER_STATUSES,
    label,
    ref,
    yuan,
)
from pm_events import Event
from pm_events.billing import ChargeRecorded
from pm_events.dispatch import WorkOrderCompleted, WorkOrderCreated, WorkOrderStatusChanged, WorkOrderTimeLimit
from pm_events.intake import (
    RequestClassified,
    RequestCreated,
    RequestReopened,
    RequestReplied,
    RequestStatusChanged,
    RequestTimeLimit,
)
from pm_events.survey import InvitationRequested
from pm_platform.envelope import Envelope, parse_utc
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()

# Request statuses an owner hears about from intake (work-order progress comes from dispatch's events;
# "reopened" has its own event; acknowledged/followed_up/closed would only repeat what they already know).
OWNER_REQUEST_STATUSES = {"in_progress", "resolved", "cancelled"}
# Work-order statuses an owner hears about (completion has its own event; the rest are internal).
OWNER_WORKORDER_STATUSES = {"accepted", "on_the_way", "paused", "cancelled"}
# "On the way" held until the morning would be wrong: it expires.
ON_THE_WAY_VALID = timedelta(hours=2)


class ContactNotYetKnown(Exception):
    """An event about a request overtook its ``intake.request.created.v1`` (another stream): transient, the
    consumer retries it with a growing delay until the contact has arrived."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no contact yet for request {request_id}")


class PartyNotYetKnown(Exception):
    """An event names a party whose ``intake.party.upserted.v1`` has not arrived yet: transient."""

    def __init__(self, party_id: str) -> None:
        super().__init__(f"no contact yet for party {party_id}")


def _localised(table: dict[str, dict[str, str]], value: str) -> dict[str, str]:
    return {language: label(table, value, language) for language in LANGUAGES}


def _reason(reason: str | None) -> dict[str, str]:
    return {"zh-CN": f"：{reason}" if reason else "", "en": f": {reason}" if reason else ""}


def _local(at: str, uow: UnitOfWork) -> str:
    zone = ZoneInfo(config_of(uow.runtime).site_timezone)
    return parse_utc(at).astimezone(zone).strftime("%m-%d %H:%M")


def _urgent(event: Event) -> bool:
    return getattr(event, "kind", None) == "emergency" or getattr(event, "priority", None) == "urgent"


async def _contact_for(request_id: str, uow: UnitOfWork) -> RequestContact:
    contact = await find_request(uow.session, request_id)
    if contact is None:
        raise ContactNotYetKnown(request_id)
    return contact


def _owner_notice(
    envelope: Envelope,
    contact: RequestContact,
    template: str,
    *,
    dedupe: str | None = None,
    urgent: bool = False,
    **values: Any,
) -> Notice:
    return Notice(
        template=template,
        category=Category.emergency if urgent else Category.service,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        request_id=contact.request_id,
        values={"ref": ref(contact.request_id), **values},
        dedupe=dedupe,
        conversation_at=contact.requested_at,
    )


async def _tell_reporter(envelope: Envelope, uow: UnitOfWork, contact: RequestContact, notice: Notice) -> None:
    await notify(uow, notice, await reporter_recipient(uow.session, contact, config_of(uow.runtime)))


def _done_key(contact: RequestContact) -> str:
    # One "your request is done" per round of work: the work order's completion and intake's "resolved"
    # say the same thing, and a reopened request is done again later.
    return f"request:{contact.request_id}:done:{contact.reopen_count}"


@subscriptions.on(RequestCreated)
async def on_request_created(event: RequestCreated, envelope: Envelope, uow: UnitOfWork) -> None:
    contact = await remember_request(uow.session, event)
    notice = _owner_notice(
        envelope,
        contact,
        "request.acknowledged",
        dedupe=f"request:{contact.request_id}:ack",
        urgent=_urgent(event),
        kind=event.kind,
        category=event.category,
    )
    await _tell_reporter(envelope, uow, contact, notice)


@subscriptions.on(RequestStatusChanged)
async def on_request_status_changed(event: RequestStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    status = event.to_status
    # In progress matters to the owner when no work order tells them (complaints, inquiries).
    if status not in OWNER_REQUEST_STATUSES or (status == "in_progress" and event.department):
        return
    contact = await _contact_for(event.request_id, uow)
    dedupe = _done_key(contact) if status == "resolved" else f"request:{contact.request_id}:{status}:{envelope.id}"
    notice = _owner_notice(envelope, contact, "request.status_changed", dedupe=dedupe, urgent=_urgent(event))
    notice.localised = {
        "status": _localised(REQUEST_STATUSES, status),
        "reason": _reason(event.reason if status == "cancelled" else None),
    }
    await _tell_reporter(envelope, uow, contact, notice)


@subscriptions.on(RequestReopened)
async def on_request_reopened(event: RequestReopened, envelope: Envelope, uow: UnitOfWork) -> None:
    contact = await _contact_for(event.request_id, uow)
    contact.reopen_count = max(contact.reopen_count + 1, event.reopen_count or 0)
    notice = _owner_notice(
        envelope,
        contact,
        "request.reopened",
        reason=event.reason,
        dedupe=f"request:{contact.request_id}:reopened:{contact.reopen_count}",
    )
    await _tell_reporter(envelope, uow, contact, notice)


@subscriptions.on(RequestReplied)
async def on_request_replied(event: RequestReplied, envelope: Envelope, uow: UnitOfWork) -> None:
    """The agent's progress reply, in their words, to the reporter: service-critical (no opt-out), held back by
    quiet hours like the other routine owner messages."""
    contact = await _contact_for(event.request_id, uow)
    notice = _owner_notice(
        envelope,
        contact,
        "request.replied",
        message=event.message,
        dedupe=f"request:{contact.request_id}:replied:{envelope.id}",
        urgent=contact.kind == "emergency" or contact.priority == "urgent",
    )
    await _tell_reporter(envelope, uow, contact, notice)


# When the department is not known yet, what a valid complaint's message says instead of its name.
NO_DEPARTMENT = {"zh-CN": "责任部门待定", "en": "department not yet known"}


@subscriptions.on(RequestClassified)
async def on_request_classified(event: RequestClassified, envelope: Envelope, uow: UnitOfWork) -> None:
    """A valid complaint goes to the responsible department's supervisor; communicative ones are handled at the
    front desk and send nothing."""
    if event.complaint_class != "valid":
        return
    department = event.department
    contact = await find_request(uow.session, event.request_id)
    unit = event.unit_id or (contact.unit_id if contact else None) or ""
    notice = Notice(
        template="staff.complaint.valid",
        category=Category.staff,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        request_id=event.request_id,
        values={
            "ref": ref(event.request_id),
            "category": event.category,
            "unit": unit,
            "summary": event.summary or "",
        },
        localised={"department": _localised(DEPARTMENTS, department) if department else NO_DEPARTMENT},
        dedupe=f"complaint:{event.request_id}:valid:{department or '-'}",
    )
    for member in await supervisors_of(uow.session, envelope.site, department):
        await notify(uow, notice, staff_recipient(member))


@subscriptions.on(WorkOrderCreated)
async def on_work_order_created(event: WorkOrderCreated, envelope: Envelope, uow: UnitOfWork) -> None:
    # A decoration inspection's work order has no request and no reporter: only the department hears of it.
    contact = None if event.inspection_id else await _contact_for(event.request_id, uow)
    if contact is not None:
        notice = _owner_notice(
            envelope,
            contact,
            "workorder.assigned",
            urgent=_urgent(event),
            dedupe=f"workorder:{event.work_order_id}:assigned",
        )
        notice.localised = {"department": _localised(DEPARTMENTS, event.department)}
        await _tell_reporter(envelope, uow, contact, notice)
    # The department on duty learns of its new work order.
    staff = Notice(
        template="staff.workorder.new",
        category=Category.staff,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        request_id=contact.request_id if contact is not None else None,
        values={
            "ref": ref(event.request_id),
            "work_order": ref(event.work_order_id),
            "category": event.category,
            "priority": event.priority,
            "unit": event.unit_id or event.location or "",
        },
        localised={"department": _localised(DEPARTMENTS, event.department)},
        dedupe=f"workorder:{event.work_order_id}:new",
    )
    for member in await staff_for(uow.session, envelope.site, [StaffRole.duty], event.department):
        await notify(uow, staff, staff_recipient(member))


@subscriptions.on(WorkOrderStatusChanged)
async def on_work_order_status_changed(event: WorkOrderStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    status = event.to_status
    reporter = not event.inspection_id  # a decoration inspection's work order has no reporter to tell
    if status == "transferred":
        if reporter:
            await _tell_new_department(event, envelope, uow)
        return
    if status == "cancelled" and event.assignee:
        await _tell_assignee(event, envelope, uow)
    if status not in OWNER_WORKORDER_STATUSES or not reporter:
        return
    contact = await _contact_for(event.request_id, uow)
    notice = _owner_notice(
        envelope,
        contact,
        "workorder.status_changed",
        urgent=_urgent(event),
        dedupe=f"workorder:{event.work_order_id}:{status}:{envelope.id}",
    )
    notice.localised = {
        "department": _localised(DEPARTMENTS, event.department),
        "status": _localised(WORKORDER_STATUSES, status),
        "reason": _reason(event.reason if status in ("paused", "cancelled") else None),
    }
    if status == "on_the_way":
        notice.expires_at = parse_utc(event.changed_at) + ON_THE_WAY_VALID
    await _tell_reporter(envelope, uow, contact, notice)


async def _tell_assignee(event: WorkOrderStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    """A cancelled order someone held (the request was withdrawn, say): the worker is told not to go; the
    department's phone on duty when the worker is not on the roster."""
    notice = Notice(
        template="staff.workorder.cancelled",
        category=Category.staff,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        request_id=event.request_id,
        values={
            "ref": ref(event.request_id),
            "work_order": ref(event.work_order_id),
            "unit": event.unit_id or "",
            "reason": event.reason or "",
        },
        localised={"department": _localised(DEPARTMENTS, event.department)},
        dedupe=f"workorder:{event.work_order_id}:cancelled",
    )
    worker = await uow.session.get(StaffMember, event.assignee)
    members = (
        [worker]
        if worker is not None and worker.active and worker.site == envelope.site
        else await staff_for(uow.session, envelope.site, [StaffRole.duty], event.department)
    )
    for member in members:
        await notify(uow, notice, staff_recipient(member))


async def _tell_new_department(event: WorkOrderStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    """The work moved to another department (a transfer, or a complaint classified for another one): the owner
    is told who has it now, as when it was first assigned."""
    contact = await _contact_for(event.request_id, uow)
    notice = _owner_notice(
        envelope,
        contact,
        "workorder.assigned",
        urgent=_urgent(event),
        dedupe=f"workorder:{event.work_order_id}:assigned:{event.department}",
    )
    notice.localised = {"department": _localised(DEPARTMENTS, event.department)}
    await _tell_reporter(envelope, uow, contact, notice)


@subscriptions.on(WorkOrderCompleted)
async def on_work_order_completed(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
    if event.inspection_id:
        return  # a decoration inspection: intake tells the applicant through the permit's steps
    contact = await _contact_for(event.request_id, uow)
    notice = _owner_notice(envelope, contact, "workorder.completed", dedupe=_done_key(contact), result=event.result)
    await _tell_reporter(envelope, uow, contact, notice)


@subscriptions.on(ChargeRecorded)
async def on_charge_recorded(event: ChargeRecorded, envelope: Envelope, uow: UnitOfWork) -> None:
    # A charge need not come from a request (a monthly fee goes on the bill, not in a message of its own):
    # no known reporter, no message.
    contact = await find_request(uow.session, event.request_id)
    if contact is None:
        return
    notice = _owner_notice(
        envelope,
        contact,
        "charge.recorded",
        item=event.item,
        amount=yuan(event.amount_cents),
        dedupe=f"charge:{event.charge_id}",
    )
    notice.conversation_at = None  # a charge is never a reply: it waits for the morning
    await _tell_reporter(envelope, uow, contact, notice)


@subscriptions.on(InvitationRequested)
async def on_survey_invitation(event: InvitationRequested, envelope: Envelope, uow: UnitOfWork) -> None:
    party = await uow.session.get(Party, event.party_id)
    if party is None:
        raise PartyNotYetKnown(event.party_id)
    if not party.active:
        return  # moved out since the sample was drawn
    closes = event.closes_at
    notice = Notice(
        template="survey.invitation",
        category=Category.surveys,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        values={
            "title": event.title,
            "link": event.link,
            "summary": event.summary or "",
            "closes": _local(closes, uow) if closes else "",
        },
        dedupe=f"survey:{event.invitation_id}",
        expires_at=parse_utc(closes) if closes else None,
    )
    await notify(uow, notice, await party_recipient(uow.session, party, config_of(uow.runtime)))


def _staff_roles(stage: str, *first: StaffRole) -> list[StaffRole]:
    # A warning goes to who can still act; a breach escalates to the site manager as well.
    return [*first, StaffRole.manager] if stage == "breach" else list(first)


@subscriptions.on(RequestTimeLimit)
async def on_request_time_limit(event: RequestTimeLimit, envelope: Envelope, uow: UnitOfWork) -> None:
    notice = Notice(
        template="staff.request.timelimit",
        category=Category.staff,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        request_id=event.request_id,
        values={
            "ref": ref(event.request_id),
            "due": _local(event.due_at, uow),
            "category": event.category,
            "unit": event.unit_id or "",
        },
        localised={"limit": _localised(LIMITS, event.limit), "stage": _localised(STAGES, event.stage)},
        dedupe=f"timelimit:{event.request_id}:{event.limit}:{event.stage}:{event.due_at}",
    )
    for member in await staff_for(uow.session, envelope.site, _staff_roles(event.stage, StaffRole.supervisor)):
        await notify(uow, notice, staff_recipient(member))


@subscriptions.on(WorkOrderTimeLimit)
async def on_work_order_time_limit(event: WorkOrderTimeLimit, envelope: Envelope, uow: UnitOfWork) -> None:
    notice = Notice(
        template="staff.workorder.timelimit",
        category=Category.staff,
        site=envelope.site,
        source_event_id=envelope.id,
        correlation_id=envelope.correlationid,
        request_id=event.request_id,
        values={
            "ref": ref(event.request_id),
            "work_order": ref(event.work_order_id),
            "due": _local(event.due_at, uow),
            "unit": event.unit_id or "",
        },
        localised={
            "department": _localised(DEPARTMENTS, event.department),
            "limit": _localised(LIMITS, event.limit),
            "stage": _localised(STAGES, event.stage),
        },
        dedupe=f"timelimit:{event.work_order_id}:{event.limit}:{event.stage}:{event.due_at}",
    )
    roles = _staff_roles(event.stage, StaffRole.duty, StaffRole.supervisor)
    for member in await staff_for(uow.session, envelope.site, roles, event.department):
        await notify(uow, notice, staff_recipient(member))
