"""The front desk's pure rules: which limit a request runs against, how a caller's facts read, and how the
form's answers become intake's commands. No I/O here, so they are tested without a stack."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

# intake's open statuses (its lookup and handover use the same set): a request that still needs work.
OPEN_STATUSES = frozenset({"new", "acknowledged", "in_progress", "reopened"})
# The status changes the request page offers; intake decides which one is legal now and refuses the rest (409).
STATUS_ACTIONS = ("acknowledged", "in_progress", "resolved", "followed_up", "closed", "reopened", "cancelled")
# intake needs a reason for these.
NEEDS_REASON = frozenset({"reopened", "cancelled"})
COMPLAINT_CLASSES = ("valid", "help_seeking", "inquiry", "venting")
DEPARTMENTS = ("engineering", "cleaning", "greening", "security", "lift")
DUTY_KINDS = ("call", "visit", "patrol", "note")
BROADCAST_URGENCIES = ("normal", "emergency")


def time_limit(item: dict[str, Any]) -> tuple[str, str | None, bool]:
    """The limit a request is running against now: (message key, due time, breached)."""
    if item.get("acknowledged_at") is None and item.get("ack_due_at"):
        return "requests.due_ack", item["ack_due_at"], bool(item.get("ack_breached"))
    if item.get("replied_at") is None and item.get("reply_due_at"):
        return "requests.due_reply", item["reply_due_at"], bool(item.get("reply_breached"))
    return "requests.no_limit", None, False


def open_requests(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in items if item.get("status") in OPEN_STATUSES]


def unit_id_of(site: str, unit_code: str) -> str:
    """A unit's id at intake is the site's code and the unit's ("harbour" + "A-0101")."""
    return f"{site}-{unit_code}"


def unit_code_of(site: str, unit_id: str | None) -> str:
    """The unit's code as the form asks for it (the id without the site's prefix)."""
    if not unit_id:
        return ""
    return unit_id.removeprefix(f"{site}-")


def yuan(cents: int | None) -> str:
    """Fen as yuan with two decimals (exact: never through float)."""
    if cents is None:
        return ""
    return f"{(Decimal(cents) / 100).quantize(Decimal('0.01')):,}"


def new_request_link(site: str, unit_id: str | None, party: dict[str, Any] | None, phone: str = "") -> str:
    """The new request form, prefilled for the caller found at the call screen (an unknown caller: the phone)."""
    params: dict[str, str] = {"site": site, "channel": "phone"}
    if unit_id:
        params["unit_code"] = unit_code_of(site, unit_id)
    if party:
        params["party_id"] = str(party["id"])
        params["reporter_name"] = str(party.get("name") or "")
        phone = str(party.get("phone") or phone)
    if phone:
        params["reporter_phone"] = phone
    return "/front-desk/requests/new?" + urlencode(params)


def status_command(status: str, reason: str) -> dict[str, str]:
    """intake's status command: the reason only when one is given (intake refuses an empty one)."""
    command = {"status": status}
    if reason.strip():
        command["reason"] = reason.strip()
    return command


def classification_command(complaint_class: str, department: str) -> dict[str, str]:
    command = {"complaint_class": complaint_class}
    if department:
        command["department"] = department
    return command


def handover_items(next_steps: dict[str, str]) -> list[dict[str, str]]:
    """The outgoing agent's own word on open items' next steps; intake hands over every open item anyway and
    derives the next step of the ones left blank."""
    return [
        {"request_id": request_id, "next_step": step.strip()} for request_id, step in next_steps.items() if step.strip()
    ]
