"""The worker screens' pure rules: which command a form sends to dispatch, with what body, and how amounts and a
refusal's field are shown. Which commands a state allows is dispatch's to say (GET /work-orders/{id}/actions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Dispatch's worker commands (POST /work-orders/{id}/<action>), in the order a job meets them.
ACTIONS = ("claim", "accept", "on-the-way", "arrive", "pause", "resume", "complete", "return", "transfer")
# Commands that are one tap (no form to fill in).
ONE_TAP = frozenset({"claim", "accept", "on-the-way", "arrive", "resume"})
WAITING_FOR = ("parts", "owner", "other")

# A refusal's field (as dispatch names it) -> the form input it belongs next to.
FIELD_INPUTS = {
    "reason": "reason",
    "waiting_for": "waiting_for",
    "department": "department",
    "result": "result",
    "parts": "parts",
    "minutes_spent": "minutes_spent",
    "charge": "charge_code",
    "charge.code": "charge_code",
    "charge.item": "charge_code",
    "charge.quantity": "quantity",
    "charge.amount_cents": "charge_code",
}


@dataclass(frozen=True)
class ActionForm:
    """What the action forms post (each form fills in its own fields; the rest stay empty)."""

    reason: str = ""
    waiting_for: str = ""
    department: str = ""
    result: str = ""
    parts: str = ""
    minutes_spent: str = ""
    charge_code: str = ""
    quantity: str = ""


def parts_of(text: str) -> list[str]:
    """The parts used, one a line (blank lines dropped)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def whole_number(text: str) -> int | str | None:
    """A typed number as an int for dispatch to check; what is not a number is passed on for dispatch to refuse."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdecimal() else text


def command_body(action: str, form: ActionForm) -> dict[str, Any] | None:
    """The JSON body dispatch's command takes (None: the command has no body)."""
    if action == "pause":
        return {"waiting_for": form.waiting_for, "reason": form.reason.strip()}
    if action == "return":
        return {"reason": form.reason.strip()}
    if action == "transfer":
        return {"department": form.department, "reason": form.reason.strip()}
    if action == "complete":
        body: dict[str, Any] = {"result": form.result.strip(), "parts": parts_of(form.parts)}
        minutes = whole_number(form.minutes_spent)
        if minutes is not None:
            body["minutes_spent"] = minutes
        if form.charge_code:
            # The amount is dispatch's: the list price times the quantity, computed there.
            body["charge"] = {"code": form.charge_code, "quantity": whole_number(form.quantity) or 1}
        return body
    return None


# A decoration inspection's work order (intake asked, dispatch made it): completed by answering its checklist.
INSPECTION = "decoration_inspection"


def inspection_body(codes: list[str], answers: dict[str, str], notes: dict[str, str], note: str) -> dict[str, Any]:
    """The checklist's outcome as dispatch's inspection-result takes it: each item ok ("ok") or not ("fail") with an
    optional note, in the checklist's order. An item left unanswered is left out, for dispatch to name it."""
    items: list[dict[str, Any]] = []
    for code in codes:
        answer = answers.get(code, "")
        if answer not in ("ok", "fail"):
            continue
        item: dict[str, Any] = {"code": code, "ok": answer == "ok"}
        if notes.get(code, "").strip():
            item["note"] = notes[code].strip()
        items.append(item)
    body: dict[str, Any] = {"items": items}
    if note.strip():
        body["note"] = note.strip()
    return body


def input_for(field: str | None) -> str | None:
    """The form input a refusal's field names, if any."""
    return FIELD_INPUTS.get(field or "")


def money(amount_cents: int, currency: str = "CNY") -> str:
    """An exact amount in minor units (fen) as the receipt shows it: ¥80.00."""
    sign = "-" if amount_cents < 0 else ""
    whole, cents = divmod(abs(amount_cents), 100)
    symbol = "¥" if currency == "CNY" else f"{currency} "
    return f"{sign}{symbol}{whole}.{cents:02d}"
