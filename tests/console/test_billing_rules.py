"""The billing screens' rules without a browser: amounts in figures and in Chinese capital numerals, a fee item's
rate versions in force or scheduled, the fee-item forms' body and inputs, and a long list's pages."""

from __future__ import annotations

from datetime import date

import pytest

from console.billing.rules import (
    IN_FORCE,
    SCHEDULED,
    SUPERSEDED,
    capital_amount,
    fee_item_input,
    money,
    pager,
    parse_amount,
    period_of,
    rate_states,
    rates_body,
    sort_arrears,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("cents", "capitals"),
    [
        (0, "零元整"),
        (1, "壹分"),
        (50, "伍角整"),
        (55, "伍角伍分"),
        (100, "壹元整"),
        (105, "壹元零伍分"),
        (150, "壹元伍角整"),
        (1000, "壹拾元整"),
        (25060, "贰佰伍拾元陆角整"),
        (100100, "壹仟零壹元整"),
        (101000, "壹仟零壹拾元整"),
        (123456, "壹仟贰佰叁拾肆元伍角陆分"),
        (1000000, "壹万元整"),
        (1010000, "壹万零壹佰元整"),
        (1100000, "壹万壹仟元整"),
        (10000100, "壹拾万零壹元整"),
        (10700053, "壹拾万柒仟元伍角叁分"),
        (100000000, "壹佰万元整"),
        (10000000000, "壹亿元整"),
        (10001000000, "壹亿零壹万元整"),
        (10000000100, "壹亿零壹元整"),
        (100000000000, "壹拾亿元整"),
        (168032, "壹仟陆佰捌拾元叁角贰分"),
    ],
)
def test_an_amount_in_capitals_follows_the_receipt_rules(cents: int, capitals: str) -> None:
    assert capital_amount(cents) == capitals


def test_a_negative_amount_has_no_capitals() -> None:
    with pytest.raises(ValueError):
        capital_amount(-1)


def test_an_amount_in_figures_has_separators_and_two_decimals() -> None:
    assert money(0) == "¥0.00"
    assert money(123456789) == "¥1,234,567.89"
    assert money(-2505) == "-¥25.05"
    assert money(1000, "HKD") == "10.00 HKD"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("280", 28000), ("280.5", 28050), ("1,280.05", 128005), ("¥ 0.01", 1), ("-3", -300), ("0", 0)],
)
def test_a_typed_amount_becomes_fen(typed: str, cents: int) -> None:
    assert parse_amount(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "1.005", "NaN", "Infinity", "1e400x"])
def test_a_typed_amount_that_is_not_plain_is_refused(typed: str) -> None:
    assert parse_amount(typed) is None


def test_arrears_sort_by_age_or_by_amount() -> None:
    items = [
        {"unit_id": "u1", "overdue_cents": 100, "days_overdue": 90},
        {"unit_id": "u2", "overdue_cents": 900, "days_overdue": 10},
        {"unit_id": "u3", "overdue_cents": 900, "days_overdue": 40},
    ]
    assert [i["unit_id"] for i in sort_arrears(items, "age")] == ["u1", "u3", "u2"]
    assert [i["unit_id"] for i in sort_arrears(items, "amount")] == ["u3", "u2", "u1"]


def _rate(effective_from: str, rate: str = "2.8") -> dict[str, object]:
    return {"effective_from": effective_from, "rate": rate, "by_use": {}, "vacant_rate": None}


def test_the_rate_in_force_is_the_latest_from_the_period_or_before_and_later_ones_are_scheduled() -> None:
    rates = [_rate("2025-01", "2.5"), _rate("2027-03", "3.2"), _rate("2026-07", "2.8"), _rate("2027-01", "3")]
    states = rate_states(rates, "2026-12")
    assert [(state, rate["effective_from"]) for state, rate in states] == [
        (SCHEDULED, "2027-03"),
        (SCHEDULED, "2027-01"),
        (IN_FORCE, "2026-07"),
        (SUPERSEDED, "2025-01"),
    ]
    # From its own period on, a version is the one in force.
    assert [state for state, _ in rate_states(rates, "2027-01")] == [SCHEDULED, IN_FORCE, SUPERSEDED, SUPERSEDED]


def test_an_item_whose_first_rates_start_later_has_none_in_force_yet() -> None:
    assert [state for state, _ in rate_states([_rate("2030-01")], "2026-12")] == [SCHEDULED]
    assert rate_states([], "2026-12") == []


def test_the_period_of_a_day_is_its_year_and_month() -> None:
    assert period_of(date(2026, 1, 31)) == "2026-01"
    assert period_of(date(2026, 12, 1)) == "2026-12"


def test_a_rate_form_sends_only_the_rates_typed_and_as_typed() -> None:
    form = {"rate": " 2.80 ", "by_use_office": "3.5", "by_use_retail": " ", "vacant_rate": "", "code": "waste"}
    assert rates_body(form) == {"rate": "2.80", "by_use": {"office": "3.5"}}
    assert rates_body({"rate": "30", "vacant_rate": "0"}) == {"rate": "30", "vacant_rate": "0"}
    assert rates_body({}) == {"rate": ""}  # billing's 422 then names the rate


@pytest.mark.parametrize(
    ("field", "input_name"),
    [
        ("effective_from", "effective_from"),
        ("code", "code"),
        ("rate", "rate"),
        ("cycle_months", "cycle_months"),
        ("by_use.office", "by_use_office"),
        ("by_use.garden", None),
        ("site", None),
        (None, None),
    ],
)
def test_billing_s_problem_field_names_the_form_s_input(field: str | None, input_name: str | None) -> None:
    assert fee_item_input(field) == input_name


def test_a_long_list_pages_by_its_limit() -> None:
    first = pager(total=120, limit=50, offset=0)
    assert (first.first, first.last, first.previous_offset, first.next_offset) == (1, 50, None, 50)
    middle = pager(total=120, limit=50, offset=50)
    assert (middle.first, middle.last, middle.previous_offset, middle.next_offset) == (51, 100, 0, 100)
    last = pager(total=120, limit=50, offset=100)
    assert (last.first, last.last, last.previous_offset, last.next_offset) == (101, 120, 50, None)
    assert pager(total=50, limit=50, offset=0).next_offset is None
    empty = pager(total=0, limit=50, offset=0)
    assert (empty.first, empty.last, empty.previous_offset, empty.next_offset) == (0, 0, None, None)
    beyond = pager(total=10, limit=50, offset=30)  # a stale link past the end: nothing shown, the way back
    assert (beyond.first, beyond.last, beyond.previous_offset) == (0, 0, 0)
