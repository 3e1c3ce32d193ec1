"""How the billing screens write money: figures with thousands separators, and the amount in Chinese capital
numerals (大写金额) as a receipt carries it, by the usual rules of the payment-settlement measures
(支付结算办法): one 零 for a run of zeros, 整 when there are no fen. Also how a typed amount becomes fen and
how the arrears table sorts; which rate version of a fee item is in force, a fee-item form's body and a long
list's pages. Pure functions: money is integer fen, never float."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("仟", "佰", "拾", "")  # within a group of four digits, highest first
GROUPS = ("", "万", "亿", "万亿")  # each group of four digits, lowest first
CURRENCY_SIGNS = {"CNY": "¥"}


def money(cents: int, currency: str = "CNY") -> str:
    """12345678 -> '¥123,456.78' (the currency's code when it has no sign here)."""
    sign = "-" if cents < 0 else ""
    whole, fen = divmod(abs(cents), 100)
    symbol = CURRENCY_SIGNS.get(currency)
    figures = f"{whole:,}.{fen:02d}"
    return f"{sign}{symbol}{figures}" if symbol else f"{sign}{figures} {currency}"


def _group_capitals(group: int) -> str:
    """1..9999 in capitals with their places: 1010 -> 壹仟零壹拾 (a zero between digits once, none at the end)."""
    text = ""
    pending_zero = False
    for place, digit in zip(PLACES, f"{group:04d}", strict=True):
        if digit == "0":
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[int(digit)] + place
    return text


def _yuan_capitals(yuan: int) -> str:
    """Whole yuan in capitals: groups of four digits with 万/亿; a zero where a group or its head is empty."""
    if yuan == 0:
        return "零"
    groups: list[int] = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    if len(groups) > len(GROUPS):
        raise ValueError("amount too large for capital numerals")
    text = ""
    zero_before = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero_before = bool(text)
            continue
        if text and (zero_before or group < 1000):
            text += "零"
        text += _group_capitals(group) + GROUPS[index]
        zero_before = False
    return text


def capital_amount(cents: int) -> str:
    """An amount in fen as a receipt writes it in capitals: 123456 -> 壹仟贰佰叁拾肆元伍角陆分,
    1000 -> 壹拾元整, 105 -> 壹元零伍分, 50 -> 伍角整, 0 -> 零元整."""
    if cents < 0:
        raise ValueError("a receipt's amount is never negative")
    yuan, fen_part = divmod(cents, 100)
    jiao, fen = divmod(fen_part, 10)
    text = _yuan_capitals(yuan) + "元" if yuan or not fen_part else ""
    if jiao:
        text += DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            text += "零"  # 壹元零伍分: the empty jiao is read as a zero
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return text


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
