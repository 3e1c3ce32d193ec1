"""Form inputs to intake's decoration-permit bodies, intake's refusals back to the input they name, and which
action forms a permit's page offers. Intake decides what is valid (dates, hours, a worker's ID digits, the review's
checklist): these only translate, so a refusal always comes in intake's own words. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from console.billing.rules import parse_amount

# Lines, or commas and semicolons (also the Chinese ones), part a list typed in one field.
_LINES = re.compile("[\n;\uff1b]+")
_FIELDS = re.compile("[,\uff0c\u3001]+")
REVIEW_RESULTS = ("approve", "approve_with_conditions", "reject")
DEDUCTION_KINDS = ("damage", "cleaning", "other")
DEDUCTION_ROWS = 3
INSPECTION_KINDS = ("routine", "recheck")
# The front desk's action forms, each shown while the permit's status allows it (intake answers 409 otherwise).
DURING_WORKS = ("in_works", "stopped")
FORMS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "applied": ("start_review", "withdraw"),
    "under_review": ("withdraw",),
    "approved": ("start_works", "withdraw", "complaint"),
    "in_works": ("inspection", "violation", "complaint", "request_completion"),
    "stopped": ("inspection", "violation", "complaint", "resume"),
    "completion_requested": ("violation", "complaint"),
    "completed": ("settle", "complaint"),
}
# The new-application form's inputs by the field intake names in a problem (its first part).
PERMIT_INPUTS = {
    "unit_id": "unit_id",
    "party_id": "unit_id",
    "applicant": "unit_id",
    "scope": "scope",
    "description": "description",
    "contractor": "contractor_company",
    "workers": "workers",
    "works_from": "works_from",
    "works_to": "works_to",
    "work_hours": "work_start",
}
CONTRACTOR_PARTS = ("company", "licence_number", "manager_name", "manager_phone")


def split_lines(text: str) -> list[str]:
    """One item per line (or semicolon): a permit's scope, a review's conditions or reasons."""
    return [part.strip() for part in _LINES.split(text) if part.strip()]


def parse_workers(text: str) -> list[dict[str, str]]:
    """One worker per line: "name, last 4 of the ID card, trade"; a line missing a part goes with it empty, for
    intake to refuse in its own words."""
    workers = []
    for line in split_lines(text):
        parts = [part.strip() for part in _FIELDS.split(line)] + ["", ""]
        workers.append({"name": parts[0], "id_last4": parts[1], "trade": parts[2]})
    return workers


def permit_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The application form as intake's body (the desk applies for the unit's owner, ``party_id``)."""
    body: dict[str, Any] = {
        "unit_id": form.get("unit_id", "").strip(),
        "scope": split_lines(form.get("scope", "")),
        "description": form.get("description", "").strip(),
        "contractor": {part: form.get(f"contractor_{part}", "").strip() for part in CONTRACTOR_PARTS},
        "workers": parse_workers(form.get("workers", "")),
        "works_from": form.get("works_from", "").strip(),
        "works_to": form.get("works_to", "").strip(),
    }
    if form.get("party_id", "").strip():
        body["party_id"] = form["party_id"].strip()
    start, end = form.get("work_start", "").strip(), form.get("work_end", "").strip()
    if start or end:
        body["work_hours"] = {"start": start, "end": end}
    return body


def permit_input(field: str | None) -> str | None:
    """Which input of the application form an intake problem's field names (``contractor.manager_phone`` ->
    ``contractor_manager_phone``, ``workers.0.id_last4`` -> ``workers``, ``work_hours.end`` -> ``work_end``)."""
    if not field:
        return None
    head, _, rest = field.partition(".")
    if head == "contractor" and rest.split(".")[0] in CONTRACTOR_PARTS:
        return f"contractor_{rest.split('.')[0]}"
    if head == "work_hours" and rest.startswith("end"):
        return "work_end"
    return PERMIT_INPUTS.get(head)


def review_body(
    result: str, codes: Iterable[str], form: Mapping[str, str], conditions: str, reasons: str
) -> dict[str, Any]:
    """Engineering's review: each checklist item ok or not (``ok_<code>`` "yes"/"no") with its note
    (``note_<code>``), the result, and the conditions or reasons one per line."""
    checklist = []
    for code in codes:
        item: dict[str, Any] = {"code": code, "ok": form.get(f"ok_{code}", "") == "yes"}
        note = form.get(f"note_{code}", "").strip()
        if note:
            item["note"] = note
        checklist.append(item)
    body: dict[str, Any] = {"result": result, "checklist": checklist}
    if split_lines(conditions):
        body["conditions"] = split_lines(conditions)
    if split_lines(reasons):
        body["reasons"] = split_lines(reasons)
    return body


def deductions(form: Mapping[str, str]) -> list[dict[str, Any]] | str:
    """The settlement's deduction rows (``deduction_kind_N``, ``deduction_amount_N`` in yuan, ``deduction_reason_N``);
    a row without an amount is left out. The name of the first row whose amount is no amount, as a string."""
    rows: list[dict[str, Any]] = []
    for index in range(DEDUCTION_ROWS):
        amount = form.get(f"deduction_amount_{index}", "").strip()
        if not amount:
            continue
        cents = parse_amount(amount)
        if cents is None:
            return f"deduction_amount_{index}"
        rows.append(
            {
                "kind": form.get(f"deduction_kind_{index}", "damage") or "damage",
                "amount_cents": cents,
                "reason": form.get(f"deduction_reason_{index}", "").strip(),
            }
        )
    return rows


def action_forms(status: str) -> tuple[str, ...]:
    """The action forms the front desk's permit page offers in this status."""
    return FORMS_BY_STATUS.get(status, ())


def checklist_of(settings: Mapping[str, Any] | None, permit: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """The checklist to review against: the site's (code and label), else the codes of a review on record."""
    if settings and settings.get("checklist"):
        return [{"code": str(item["code"]), "label": str(item["label"])} for item in settings["checklist"]]
    review = (permit or {}).get("review") or {}
    return [{"code": str(item["code"]), "label": str(item["code"])} for item in review.get("checklist", [])]


# --- deposits a clerk takes at a move-in ------------------------------------------------------------------------

DEPOSIT_PURPOSES = ("decoration", "tenancy", "key_card")
# The take-a-deposit form's inputs by the field billing names in a problem (its first part).
DEPOSIT_INPUTS = {"unit_id": "unit_id", "party_id": "unit_id", "amount_cents": "amount", "items": "items"}


def deposit_body(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The take-a-deposit form as billing's ``POST /units/{unit}/deposits`` body, or the message key of each input
    that is not what it must be: a tenancy deposit's amount in yuan; a key/card deposit's keys and cards one to a
    line as "number amount" ("K-0101-1 50"). Whether the unit, the amounts and the numbers are acceptable is billing's
    to say."""
    errors: dict[str, str] = {}
    body: dict[str, Any] = {"purpose": form.get("purpose", ""), "method": form.get("method", "")}
    if form.get("reference", "").strip():
        body["reference"] = form["reference"].strip()
    if body["purpose"] == "tenancy":
        amount = parse_amount(form.get("amount", ""))
        if amount is None or amount <= 0:
            errors["amount"] = "deposit.error.amount"
        else:
            body["amount_cents"] = amount
    else:
        items: list[dict[str, Any]] = []
        for line in _LINES.split(form.get("items", "")):
            if not line.strip():
                continue
            number, _, amount_text = line.strip().rpartition(" ")
            amount = parse_amount(amount_text)
            if not number.strip() or amount is None:
                errors["items"] = "deposit.error.items"
                break
            items.append({"number": number.strip(), "amount_cents": amount})
        if not items:
            errors.setdefault("items", "deposit.error.items")
        body["items"] = items
    return body, errors


def deposit_input(field: str | None) -> str:
    """The form's input a billing refusal names (its field's first part); the unit when it names none."""
    return DEPOSIT_INPUTS.get((field or "").split(".")[0], "unit_id")
