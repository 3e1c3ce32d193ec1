"""billing.occupancy.proration: a periodic fee for the occupied days of its span only, rounded once, half up, to the
fen; consecutive stays apportioned so their parts add up exactly (pure rules: no database)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.fee.service import Line, to_fen
from billing.occupancy.proration import (
    Share,
    apportion_cents,
    changes_within,
    cycle_span,
    occupied_days,
    prorate_cents,
    share_of,
)
from billing.occupancy.service import cycle_period

AREA_FEE = Decimal("89.5") * Decimal("2.80")  # A-0101: 89.5 m² x 2.80 a month = 250.60


def test_unit_the_span_is_the_month_quarter_or_year_a_charge_covers() -> None:
    assert cycle_span("2026-11", 1) == (date(2026, 11, 1), date(2026, 12, 1))
    assert cycle_span("2026-12", 1) == (date(2026, 12, 1), date(2027, 1, 1))
    assert cycle_span("2027-10", 3) == (date(2027, 10, 1), date(2028, 1, 1))
    assert cycle_span("2028-01", 12) == (date(2028, 1, 1), date(2029, 1, 1))  # a leap year: 366 days
    assert cycle_period(date(2027, 2, 17), 3) == "2027-01"
    assert cycle_period(date(2027, 12, 31), 12) == "2027-01"
    assert cycle_period(date(2027, 2, 17), 1) == "2027-02"


def test_unit_a_stay_counts_from_its_move_in_day_up_to_the_day_before_its_move_out() -> None:
    start, end = cycle_span("2026-11", 1)
    assert occupied_days(start, end, [(date(2026, 11, 12), None)]) == 19  # the 12th to the 30th
    assert occupied_days(start, end, [(None, date(2026, 11, 10))]) == 9  # the 1st to the 9th
    # One moves out on the 15th, the next moves in that day: every day once, the whole month.
    assert occupied_days(start, end, [(None, date(2026, 11, 15)), (date(2026, 11, 15), None)]) == 30
    # Overlapping stays count a day once; stays outside the span count nothing.
    assert occupied_days(start, end, [(date(2026, 11, 5), None), (date(2026, 11, 1), date(2026, 11, 20))]) == 30
    assert occupied_days(start, end, [(date(2026, 10, 1), date(2026, 11, 1)), (date(2026, 12, 1), None)]) == 0
    assert changes_within(start, end, [(date(2026, 11, 1), None)]) is False  # from the first day: nothing changes
    assert changes_within(start, end, [(None, date(2026, 12, 1))]) is False  # to the last day: nothing changes


def test_unit_a_share_is_none_unless_the_occupancy_changes_inside_the_span() -> None:
    assert share_of([], "2026-11", 1) is None
    assert share_of([(date(2026, 1, 1), None)], "2026-11", 1) is None
    assert share_of([(date(2026, 1, 1), date(2026, 3, 1))], "2026-11", 1) is None  # vacant all along: as it stands
    assert share_of([(None, date(2026, 11, 15)), (date(2026, 11, 15), None)], "2026-11", 1) is None  # full
    assert share_of([(date(2026, 11, 12), None)], "2026-11", 1) == Share(19, 30)
    assert share_of([(date(2026, 11, 12), None)], "2026-10", 3) == Share(50, 92)  # the quarter: 19 + 31 days


def test_unit_the_prorated_fee_is_the_exact_fee_times_days_over_span_rounded_once_half_up() -> None:
    assert prorate_cents(AREA_FEE, 19, 30) == 15871  # 250.60 x 19 / 30 = 158.7133
    assert prorate_cents(AREA_FEE, 16, 31) == 12934  # 250.60 x 16 / 31 = 129.3419
    assert prorate_cents(Decimal("0.03"), 1, 2) == 2  # 1.5 fen: half up
    assert prorate_cents(AREA_FEE, 30, 30) == to_fen(AREA_FEE) == 25060
    assert prorate_cents(AREA_FEE, 0, 30) == 0
    line = Line(quantity=Decimal("89.5"), rate=Decimal("2.80"), months=3, amount_cents=75180)
    share = Share(50, 92)
    assert share.of(line) == 40859  # 751.80 x 50 / 92 = 408.5869: the quarter's exact amount, rounded once
    assert share.label("Property management fee 2026-10: 89.5 m² x 2.8 x 3 months").endswith(", 50/92 days")
    assert len(share.label("x" * 200)) == 120
    with pytest.raises(ValueError):
        prorate_cents(AREA_FEE, 31, 30)


def test_unit_consecutive_parts_add_up_to_the_fen() -> None:
    assert apportion_cents(Decimal("1"), [1, 1, 1], 3) == [33, 34, 33]  # 33.3, 66.7, 100 rounded as running totals
    assert sum(apportion_cents(AREA_FEE, [9, 6, 15], 30)) == 25060


@given(
    exact=st.decimals(min_value=0, max_value=Decimal("100000"), places=4),
    span=st.integers(min_value=28, max_value=366),
    data=st.data(),
)
def test_unit_a_prorated_fee_never_exceeds_the_full_one_and_parts_add_up(exact: Decimal, span: int, data) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=span), max_size=6)))
    bounds = [0, *cuts, span]
    parts = [b - a for a, b in itertools.pairwise(bounds)]
    full = to_fen(exact)
    prorated = [prorate_cents(exact, days, span) for days in parts]
    assert all(0 <= p <= full for p in prorated)
    # Each part rounded alone is within 1 fen per part of the whole; apportioned, they add up to it exactly.
    assert abs(sum(prorated) - full) <= len(parts)
    apportioned = apportion_cents(exact, parts, span)
    assert sum(apportioned) == full
    assert all(abs(a - p) <= 1 for a, p in zip(apportioned, prorated, strict=True))
    # More days never cost less.
    days = data.draw(st.integers(min_value=0, max_value=span - 1))
    assert prorate_cents(exact, days, span) <= prorate_cents(exact, days + 1, span)


@given(
    move_in=st.integers(min_value=-40, max_value=40),
    stay=st.integers(min_value=0, max_value=80),
)
def test_unit_a_stays_share_is_the_days_it_covers(move_in: int, stay: int) -> None:
    start = date(2026, 11, 1)
    first = start + timedelta(days=move_in)
    share = share_of([(first, first + timedelta(days=stay))], "2026-11", 1)
    covered = len([d for d in range(30) if first <= start + timedelta(days=d) < first + timedelta(days=stay)])
    if share is None:
        assert covered in (0, 30) or not changes_within(start, date(2026, 12, 1), [(first, first + timedelta(stay))])
    else:
        assert share == Share(covered, 30)
