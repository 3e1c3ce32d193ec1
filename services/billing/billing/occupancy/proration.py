"""Proration by day (按天计费): a periodic fee for the days a unit was occupied in the span a charge covers. Pure rules.

A stay is the half-open range [move-in day, move-out day): the move-out day is not occupied (it is the next
occupant's first), so consecutive stays share no day. The span of a charge is its cycle: the period's month for a
monthly item, the quarter or year a quarterly or yearly item is billed for.

The rounding rule is the fee items' own (billing/fee): the exact amount in yuan (quantity x rate x months) times
occupied days / days of the span, rounded once, half up, to the fen. Parts of one span (consecutive stays, or the
occupied days and the credit of the unoccupied ones) are apportioned by cumulative rounding, so they add up to the
fen."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from billing.fee.service import Line

# (move-in day or None: before anything billing knows, move-out day or None: still there)
Stay = tuple[date | None, date | None]


def cycle_span(period: str, cycle_months: int) -> tuple[date, date]:
    """The days a charge of ``period`` covers, [first, end): the month, or the quarter or year it opens."""
    year, month = int(period[:4]), int(period[5:7])
    following = month - 1 + cycle_months
    return date(year, month, 1), date(year + following // 12, following % 12 + 1, 1)


def occupied_days(start: date, end: date, stays: Iterable[Stay]) -> int:
    """The days of [start, end) inside any of the stays (a day two stays cover counts once)."""
    ranges = sorted((max(move_in or start, start), min(move_out or end, end)) for move_in, move_out in stays)
    days, reached = 0, start
    for first, until in ranges:
        first = max(first, reached)
        if until > first:
            days += (until - first).days
            reached = until
    return days


def changes_within(start: date, end: date, stays: Iterable[Stay]) -> bool:
    """Does a stay start or end inside the span (after its first day, before its end)?"""
    return any((day is not None and start < day < end) for move_in, move_out in stays for day in (move_in, move_out))


def half_up(value: Fraction) -> int:
    """A non-negative exact amount in fen to whole fen, half up (billing/fee's ``to_fen`` on a Fraction)."""
    return math.floor(value + Fraction(1, 2))


def prorate_cents(exact_yuan: Decimal, days: int, span_days: int) -> int:
    """``exact_yuan`` (the whole span's amount, not rounded yet) for ``days`` of ``span_days``, rounded once."""
    if not 0 <= days <= span_days or span_days <= 0:
        raise ValueError(f"{days} occupied days of a span of {span_days}")
    return half_up(Fraction(exact_yuan) * 100 * days / span_days)


def apportion_cents(exact_yuan: Decimal, days: Sequence[int], span_days: int) -> list[int]:
    """The amounts of consecutive parts of one span (each part's days, in order): each is what the running total of
    days comes to less what the parts before it came to, so they add up to ``prorate_cents`` of all their days
    exactly, and each is within 1 fen of its own ``prorate_cents``."""
    parts: list[int] = []
    done, before = 0, 0
    for part in days:
        done += part
        upto = prorate_cents(exact_yuan, done, span_days)
        parts.append(upto - before)
        before = upto
    return parts


@dataclass(frozen=True)
class Share:
    """The occupied part of a charge's span."""

    days: int
    span_days: int

    def of(self, line: Line) -> int:
        return prorate_cents(line.quantity * line.rate * line.months, self.days, self.span_days)

    def label(self, text: str, width: int = 120) -> str:
        suffix = f", {self.days}/{self.span_days} days"
        return text[: width - len(suffix)] + suffix


def share_of(stays: Sequence[Stay], period: str, cycle_months: int) -> Share | None:
    """The occupied share of a charge of ``period`` when a stay starts or ends inside its span; None when nothing
    changes inside it (the unit is billed as it stands: occupied or vacant all along)."""
    if not stays:
        return None
    start, end = cycle_span(period, cycle_months)
    if not changes_within(start, end, stays):
        return None
    span_days = (end - start).days
    days = occupied_days(start, end, stays)
    return None if days == span_days else Share(days, span_days)
