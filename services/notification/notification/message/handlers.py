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
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope, parse_utc
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


def _urgent(data: dict[str, Any]) -> bool:
    return data.get("kind") == "emergency" or data.get("priority") == "urgent"


async def _contact_for(event: Envelope, uow: UnitOfWork) -> RequestContact:
    contact = await find_request(uow.session, event.data["request_id"])
    if contact is None:
        raise ContactNotYetKnown(event.data["request_id"])
    return contact


def _owner_notice(
    event: Envelope,
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
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        request_id=contact.request_id,
        values={"ref": ref(contact.request_id), **values},
        dedupe=dedupe,
        conversation_at=contact.requested_at,
    )


async def _tell_reporter(event: Envelope, uow: UnitOfWork, contact: RequestContact, notice: Notice) -> None:
    await notify(uow, notice, await reporter_recipient(uow.session, contact, config_of(uow.runtime)))


def _done_key(contact: RequestContact) -> str:
    # One "your request is done" per round of work: the work order's completion and intake's "resolved"
    # say the same thing, and a reopened request is done again later.
    return f"request:{contact.request_id}:done:{contact.reopen_count}"


@subscriptions.on("intake.request.created.v1")
async def on_request_created(event: Envelope, uow: UnitOfWork) -> None:
    contact = await remember_request(uow.session, event.data)
    notice = _owner_notice(
        event,
        contact,
        "request.acknowledged",
        dedupe=f"request:{contact.request_id}:ack",
        urgent=_urgent(event.data),
        kind=event.data["kind"],
        category=event.data["category"],
    )
    await _tell_reporter(event, uow, contact, notice)


@subscriptions.on("intake.request.status_changed.v1")
async def on_request_status_changed(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    status = data["to_status"]
    # In progress matters to the owner when no work order tells them (complaints, inquiries).
    if status not in OWNER_REQUEST_STATUSES or (status == "in_progress" and data.get("department")):
        return
    contact = await _contact_for(event, uow)
    dedupe = _done_key(contact) if status == "resolved" else f"request:{contact.request_id}:{status}:{event.id}"
    notice = _owner_notice(event, contact, "request.status_changed", dedupe=dedupe, urgent=_urgent(data))
    notice.localised = {
        "status": _localised(REQUEST_STATUSES, status),
        "reason": _reason(data.get("reason") if status == "cancelled" else None),
    }
    await _tell_reporter(event, uow, contact, notice)


@subscriptions.on("intake.request.reopened.v1")
async def on_request_reopened(event: Envelope, uow: UnitOfWork) -> None:
    contact = await _contact_for(event, uow)
    contact.reopen_count = max(contact.reopen_count + 1, event.data.get("reopen_count") or 0)
    notice = _owner_notice(
        event,
        contact,
        "request.reopened",
        reason=event.data["reason"],
        dedupe=f"request:{contact.request_id}:reopened:{contact.reopen_count}",
    )
    await _tell_reporter(event, uow, contact, notice)


@subscriptions.on("intake.request.replied.v1")
async def on_request_replied(event: Envelope, uow: UnitOfWork) -> None:
    """The agent's progress reply, in their words, to the reporter: service-critical (no opt-out), held back by
    quiet hours like the other routine owner messages."""
    contact = await _contact_for(event, uow)
    notice = _owner_notice(
        event,
        contact,
        "request.replied",
        message=event.data["message"],
        dedupe=f"request:{contact.request_id}:replied:{event.id}",
        urgent=contact.kind == "emergency" or contact.priority == "urgent",
    )
    await _tell_reporter(event, uow, contact, notice)


# When the department is not known yet, what a valid complaint's message says instead of its name.
NO_DEPARTMENT = {"zh-CN": "责任部门待定", "en": "department not yet known"}


@subscriptions.on("intake.request.classified.v1")
async def on_request_classified(event: Envelope, uow: UnitOfWork) -> None:
    """A valid complaint goes to the responsible department's supervisor; communicative ones are handled at the
    front desk and send nothing."""
    data = event.data
    if data["complaint_class"] != "valid":
        return
    department = data.get("department")
    contact = await find_request(uow.session, data["request_id"])
    unit = data.get("unit_id") or (contact.unit_id if contact else None) or ""
    notice = Notice(
        template="staff.complaint.valid",
        category=Category.staff,
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        request_id=data["request_id"],
        values={
            "ref": ref(data["request_id"]),
            "category": data["category"],
            "unit": unit,
            "summary": data.get("summary") or "",
        },
        localised={"department": _localised(DEPARTMENTS, department) if department else NO_DEPARTMENT},
        dedupe=f"complaint:{data['request_id']}:valid:{department or '-'}",
    )
    for member in await supervisors_of(uow.session, event.site, department):
        await notify(uow, notice, staff_recipient(member))


@subscriptions.on("dispatch.workorder.created.v1")
async def on_work_order_created(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    contact = await _contact_for(event, uow)
    notice = _owner_notice(
        event, contact, "workorder.assigned", urgent=_urgent(data), dedupe=f"workorder:{data['work_order_id']}:assigned"
    )
    notice.localised = {"department": _localised(DEPARTMENTS, data["department"])}
    await _tell_reporter(event, uow, contact, notice)
    # The department on duty learns of its new work order.
    staff = Notice(
        template="staff.workorder.new",
        category=Category.staff,
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        request_id=contact.request_id,
        values={
            "ref": ref(contact.request_id),
            "work_order": ref(data["work_order_id"]),
            "category": data["category"],
            "priority": data["priority"],
            "unit": data.get("unit_id") or data.get("location") or "",
        },
        localised={"department": _localised(DEPARTMENTS, data["department"])},
        dedupe=f"workorder:{data['work_order_id']}:new",
    )
    for member in await staff_for(uow.session, event.site, [StaffRole.duty], data["department"]):
        await notify(uow, staff, staff_recipient(member))


@subscriptions.on("dispatch.workorder.status_changed.v1")
async def on_work_order_status_changed(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    status = data["to_status"]
    if status == "transferred":
        await _tell_new_department(event, uow)
        return
    if status == "cancelled" and data.get("assignee"):
        await _tell_assignee(event, uow)
    if status not in OWNER_WORKORDER_STATUSES:
        return
    contact = await _contact_for(event, uow)
    notice = _owner_notice(
        event,
        contact,
        "workorder.status_changed",
        urgent=_urgent(data),
        dedupe=f"workorder:{data['work_order_id']}:{status}:{event.id}",
    )
    notice.localised = {
        "department": _localised(DEPARTMENTS, data["department"]),
        "status": _localised(WORKORDER_STATUSES, status),
        "reason": _reason(data.get("reason") if status in ("paused", "cancelled") else None),
    }
    if status == "on_the_way":
        notice.expires_at = parse_utc(data["changed_at"]) + ON_THE_WAY_VALID
    await _tell_reporter(event, uow, contact, notice)


async def _tell_assignee(event: Envelope, uow: UnitOfWork) -> None:
    """A cancelled order someone held (the request was withdrawn, say): the worker is told not to go; the
    department's phone on duty when the worker is not on the roster."""
    data = event.data
    notice = Notice(
        template="staff.workorder.cancelled",
        category=Category.staff,
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        request_id=data["request_id"],
        values={
            "ref": ref(data["request_id"]),
            "work_order": ref(data["work_order_id"]),
            "unit": data.get("unit_id") or "",
            "reason": data.get("reason") or "",
        },
        localised={"department": _localised(DEPARTMENTS, data["department"])},
        dedupe=f"workorder:{data['work_order_id']}:cancelled",
    )
    worker = await uow.session.get(StaffMember, data["assignee"])
    members = (
        [worker]
        if worker is not None and worker.active and worker.site == event.site
        else await staff_for(uow.session, event.site, [StaffRole.duty], data["department"])
    )
    for member in members:
        await notify(uow, notice, staff_recipient(member))


async def _tell_new_department(event: Envelope, uow: UnitOfWork) -> None:
    """The work moved to another department (a transfer, or a complaint classified for another one): the owner
    is told who has it now, as when it was first assigned."""
    data = event.data
    contact = await _contact_for(event, uow)
    notice = _owner_notice(
        event,
        contact,
        "workorder.assigned",
        urgent=_urgent(data),
        dedupe=f"workorder:{data['work_order_id']}:assigned:{data['department']}",
    )
    notice.localised = {"department": _localised(DEPARTMENTS, data["department"])}
    await _tell_reporter(event, uow, contact, notice)


@subscriptions.on("dispatch.workorder.completed.v1")
async def on_work_order_completed(event: Envelope, uow: UnitOfWork) -> None:
    contact = await _contact_for(event, uow)
    notice = _owner_notice(
        event, contact, "workorder.completed", dedupe=_done_key(contact), result=event.data["result"]
    )
    await _tell_reporter(event, uow, contact, notice)


@subscriptions.on("billing.charge.recorded.v1")
async def on_charge_recorded(event: Envelope, uow: UnitOfWork) -> None:
    # A charge need not come from a request (a monthly fee goes on the bill, not in a message of its own):
    # no known reporter, no message.
    contact = await find_request(uow.session, event.data.get("request_id"))
    if contact is None:
        return
    notice = _owner_notice(
        event,
        contact,
        "charge.recorded",
        item=event.data["item"],
        amount=yuan(event.data["amount_cents"]),
        dedupe=f"charge:{event.data['charge_id']}",
    )
    notice.conversation_at = None  # a charge is never a reply: it waits for the morning
    await _tell_reporter(event, uow, contact, notice)


@subscriptions.on("survey.invitation.requested.v1")
async def on_survey_invitation(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    party = await uow.session.get(Party, data["party_id"])
    if party is None:
        raise PartyNotYetKnown(data["party_id"])
    if not party.active:
        return  # moved out since the sample was drawn
    closes = data.get("closes_at")
    notice = Notice(
        template="survey.invitation",
        category=Category.surveys,
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        values={
            "title": data["title"],
            "link": data["link"],
            "summary": data.get("summary") or "",
            "closes": _local(closes, uow) if closes else "",
        },
        dedupe=f"survey:{data['invitation_id']}",
        expires_at=parse_utc(closes) if closes else None,
    )
    await notify(uow, notice, await party_recipient(uow.session, party, config_of(uow.runtime)))


def _staff_roles(stage: str, *first: StaffRole) -> list[StaffRole]:
    # A warning goes to who can still act; a breach escalates to the site manager as well.
    return [*first, StaffRole.manager] if stage == "breach" else list(first)


@subscriptions.on("intake.request.timelimit.v1")
async def on_request_time_limit(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    notice = Notice(
        template="staff.request.timelimit",
        category=Category.staff,
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        request_id=data["request_id"],
        values={
            "ref": ref(data["request_id"]),
            "due": _local(data["due_at"], uow),
            "category": data["category"],
            "unit": data.get("unit_id") or "",
        },
        localised={"limit": _localised(LIMITS, data["limit"]), "stage": _localised(STAGES, data["stage"])},
        dedupe=f"timelimit:{data['request_id']}:{data['limit']}:{data['stage']}:{data['due_at']}",
    )
    for member in await staff_for(uow.session, event.site, _staff_roles(data["stage"], StaffRole.supervisor)):
        await notify(uow, notice, staff_recipient(member))


@subscriptions.on("dispatch.workorder.timelimit.v1")
async def on_work_order_time_limit(event: Envelope, uow: UnitOfWork) -> None:
    data = event.data
    notice = Notice(
        template="staff.workorder.timelimit",
        category=Category.staff,
        site=event.site,
        source_event_id=event.id,
        correlation_id=event.correlationid,
        request_id=data["request_id"],
        values={
            "ref": ref(data["request_id"]),
            "work_order": ref(data["work_order_id"]),
            "due": _local(data["due_at"], uow),
            "unit": data.get("unit_id") or "",
        },
        localised={
            "department": _localised(DEPARTMENTS, data["department"]),
            "limit": _localised(LIMITS, data["limit"]),
            "stage": _localised(STAGES, data["stage"]),
        },
        dedupe=f"timelimit:{data['work_order_id']}:{data['limit']}:{data['stage']}:{data['due_at']}",
    )
    roles = _staff_roles(data["stage"], StaffRole.duty, StaffRole.supervisor)
    for member in await staff_for(uow.session, event.site, roles, data["department"]):
        await notify(uow, notice, staff_recipient(member))
