"""How the billing screens write money (pm_platform.money's figures and capital numerals, 大写金额: billing's PDFs
write them the same way), how a typed amount becomes fen and how the arrears table sorts; which rate version of a
fee item is in force, a fee-item form's body and a long list's pages. Pure functions: money is integer fen, never
float."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pm_platform.money import capital_amount as capital_amount
from pm_platform.money import money as money


def parse_amount(text: str) -> int | None:
    """A typed amount in yuan ('1,280.5', '¥ 280') as integer fen; None when it is not a plain amount with at
    most two decimals. Whether the amount is acceptable is billing's to say."""
    cleaned = text.replace(",", "").replace("\uff0c", "").replace("¥", "").replace("\uffe5", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent  # a letter for NaN and infinity
    if not isinstance(exponent, int) or exponent < -2:
        return None
    return int(value * 100)


def sort_arrears(items: Sequence[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """The arrears table by age (longest overdue first) or by amount (largest overdue first); ties by the
    other, then by unit."""
    if by == "amount":
        return sorted(items, key=lambda i: (-i["overdue_cents"], -i["days_overdue"], i["unit_id"]))
    return sorted(items, key=lambda i: (-i["days_overdue"], -i["overdue_cents"], i["unit_id"]))


# --- fee items and bills ------------------------------------------------------------------------------------

UNIT_USES = ("residential", "office", "retail", "parking", "storage", "other")
IN_FORCE, SCHEDULED, SUPERSEDED = "in_force", "scheduled", "superseded"


def period_of(day: date) -> str:
    """The billing period (YYYY-MM) a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def rate_states(rates: Sequence[dict[str, Any]], period: str) -> list[tuple[str, dict[str, Any]]]:
    """Each version of a fee item's rates, newest first, with its state in a period: scheduled (from a later
    period), in force (the latest from the period or before: what a run of the period charges) or superseded."""
    states: list[tuple[str, dict[str, Any]]] = []
    for rate in sorted(rates, key=lambda r: str(r["effective_from"]), reverse=True):
        if rate["effective_from"] > period:
            states.append((SCHEDULED, rate))
        elif any(state == IN_FORCE for state, _ in states):
            states.append((SUPERSEDED, rate))
        else:
            states.append((IN_FORCE, rate))
    return states


def rates_body(form: Mapping[str, str]) -> dict[str, Any]:
    """The rates typed into a fee-item form as billing's body: the rate, a rate per unit use and the vacant rate
    only where one was typed. The figures go as typed (exact decimal text); billing says what it refuses."""
    body: dict[str, Any] = {"rate": form.get("rate", "").strip()}
    by_use = {use: form[f"by_use_{use}"].strip() for use in UNIT_USES if form.get(f"by_use_{use}", "").strip()}
    if by_use:
        body["by_use"] = by_use
    if form.get("vacant_rate", "").strip():
        body["vacant_rate"] = form["vacant_rate"].strip()
    return body


# A fee-item form's inputs by the name billing gives the field in a problem (a rate per use: "by_use.office").
FEE_ITEM_FIELDS = ("code", "name", "formula", "cycle_months", "rate", "vacant_rate", "effective_from")


def fee_item_input(field: str | None) -> str | None:
    """The input of a fee-item form that billing's problem names, or None when it names none of them."""
    if field in FEE_ITEM_FIELDS:
        return field
    if field and field.startswith("by_use.") and field.removeprefix("by_use.") in UNIT_USES:
        return field.replace(".", "_")
    return None


@dataclass(frozen=True)
class Pager:
    """Where one page of a long list stands: the rows shown (1-based) and the offsets of its neighbours."""

    first: int
    last: int
    previous_offset: int | None
    next_offset: int | None


def pager(total: int, limit: int, offset: int) -> Pager:
    shown = max(0, min(limit, total - offset))
    previous_offset = max(0, offset - limit) if offset > 0 else None
    next_offset = offset + limit if offset + limit < total else None
    return Pager(offset + 1 if shown else 0, offset + shown if shown else 0, previous_offset, next_offset)
