"""What the late-fee, instalment-plan, bank-statement and meter pages work out before billing sees a form: the
daily rate as a contract writes it (万分之五 a day), an even instalment schedule and the plan form's rows, the
input a refusal names, an import's bad rows as one list, and the readings waiting for a re-read. Pure functions:
money is integer fen, rates and readings exact decimal text; whether a value is acceptable is billing's to say."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from console.billing.rules import parse_amount

# --- late-fee terms ---------------------------------------------------------------------------------------

MYRIAD = Decimal(10_000)
# The policy form's inputs by the name billing gives the field in a problem (the fixed amount is typed in yuan).
POLICY_INPUTS = {
    "mode": "mode",
    "grace_days": "grace_days",
    "daily_rate": "daily_rate",
    "fixed_cents": "fixed",
    "cap_pct": "cap_pct",
}
LATE_FEE_MODES = ("none", "daily", "fixed")


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 5.50 -> '5.5', 0E-6 -> '0'."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def per_myriad(daily_rate: str) -> str:
    """Billing's daily rate (a fraction: '0.000500') as contracts write it, per ten thousand a day ('5')."""
    return _plain(Decimal(daily_rate) * MYRIAD)


def daily_rate_of(typed: str) -> str | None:
    """A rate typed per ten thousand a day ('5', '0.5') as billing's fraction ('0.0005'); None when it is not a
    plain number with at most two decimals (billing keeps six places of the fraction)."""
    try:
        value = Decimal(typed.strip().replace("‱", ""))
    except InvalidOperation:
        return None
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        return None
    return _plain(value / MYRIAD)


def policy_body(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The policy form as billing's body, and the inputs this page refuses before asking (by input: a reason key
    of the catalog). Whole numbers go as typed when they are not digits, so billing's 422 names them."""
    body: dict[str, Any] = {"mode": form.get("mode", "none")}
    errors: dict[str, str] = {}
    for name in ("grace_days", "cap_pct"):
        typed = form.get(name, "").strip()
        if typed:
            body[name] = int(typed) if typed.isdigit() else typed
    rate = form.get("daily_rate", "").strip()
    if rate:
        fraction = daily_rate_of(rate)
        if fraction is None:
            errors["daily_rate"] = "latefee.policy.rate_format"
        else:
            body["daily_rate"] = fraction
    fixed = form.get("fixed", "").strip()
    if fixed:
        cents = parse_amount(fixed)
        if cents is None:
            errors["fixed"] = "billing.new.amount_format"
        else:
            body["fixed_cents"] = cents
    return body, errors


# --- instalment plans -------------------------------------------------------------------------------------

PLAN_ROWS = 12  # the form's instalment rows (billing takes 2 to 24)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, on the month's last day when it has fewer days (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def even_schedule(total_cents: int, count: int, first_due: date) -> list[tuple[date, int]]:
    """``total_cents`` in ``count`` monthly instalments from ``first_due``: equal amounts, the odd fen in the first
    ones, so they add up to the total exactly."""
    if count < 1 or total_cents < count:
        raise ValueError("at least one fen per instalment")
    share, odd = divmod(total_cents, count)
    return [(add_months(first_due, n), share + (1 if n < odd else 0)) for n in range(count)]


@dataclass(frozen=True)
class Instalments:
    """The plan form's filled rows as billing's body, the form row (1-based) of each, and the rows refused here."""

    body: list[dict[str, Any]]
    rows: list[int]
    errors: dict[str, str]


def instalments_of(form: Mapping[str, str], rows: int = PLAN_ROWS) -> Instalments:
    """The rows ``due-<n>`` and ``amount-<n>`` typed in the plan form: blank rows left out, a half-filled row or an
    amount that is not one refused by its row (``row-<n>``: a reason key of the catalog)."""
    body: list[dict[str, Any]] = []
    numbers: list[int] = []
    errors: dict[str, str] = {}
    for n in range(1, rows + 1):
        due, amount = form.get(f"due-{n}", "").strip(), form.get(f"amount-{n}", "").strip()
        if not due and not amount:
            continue
        cents = parse_amount(amount) if amount else None
        if not due or not amount:
            errors[f"row-{n}"] = "plan.new.row_incomplete"
        elif cents is None:
            errors[f"row-{n}"] = "billing.new.amount_format"
        else:
            body.append({"due": due, "amount_cents": cents})
            numbers.append(n)
    return Instalments(body, numbers, errors)


def plan_input(field: str | None, rows: Sequence[int]) -> str:
    """The plan form's input a refusal names: an instalment's row (billing's ``installments.<i>.due``), the
    schedule as a whole, the unit or the note; the schedule when it names none of them."""
    if field and field.startswith("installments."):
        index = field.split(".")[1]
        if index.isdigit() and int(index) < len(rows):
            return f"row-{rows[int(index)]}"
    if field in ("unit_id", "note", "site"):
        return "unit_id" if field == "site" else field
    return "installments"


def behind_cents(plan: Mapping[str, Any]) -> int:
    """How far a plan's payer is behind its schedule (what fell due by now less what they paid since)."""
    return max(0, int(plan.get("due_by_now_cents") or 0) - int(plan.get("paid_cents") or 0))


# --- imports: a statement or a file of readings refused whole --------------------------------------------------


@dataclass(frozen=True)
class BadRow:
    line: int  # in the file, the header being line 1
    column: str  # empty when the service names no column
    message: str


def bad_rows(listed: Sequence[Mapping[str, Any]]) -> list[BadRow]:
    """An import's refusal, each bad row as billing words it (a statement's ``{line, reason}``, the readings'
    ``{row, field, message}``), in the file's order."""
    found = [
        BadRow(
            int(row.get("line", row.get("row", 0)) or 0),
            str(row.get("field") or ""),
            str(row.get("reason", row.get("message", ""))),
        )
        for row in listed
    ]
    return sorted(found, key=lambda row: (row.line, row.column))


def to_record(rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """A statement preview's transfers that confirming records: how many, and their total in fen."""
    waiting = [row for row in rows if row.get("status") == "to_record"]
    return len(waiting), sum(int(row["amount_cents"]) for row in waiting)


# --- meters -----------------------------------------------------------------------------------------------

FLAGGED = ("below_last", "abnormal")
METER_KINDS = ("water", "electricity", "gas", "hot_water")


def flagged(readings: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The period's readings waiting for a re-read (or a manager's confirmation): below the last, or abnormal."""
    return [reading for reading in readings if reading.get("status") in FLAGGED]


def typed_readings(form: Mapping[str, str], meter_ids: Sequence[str]) -> dict[str, str]:
    """The hand-entry form's values (``value-<meter id>``) that were typed, by meter, as typed."""
    typed = {meter_id: form.get(f"value-{meter_id}", "").strip() for meter_id in meter_ids}
    return {meter_id: value for meter_id, value in typed.items() if value}
