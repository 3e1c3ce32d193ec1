"""The billing screens' formatting rules without a browser: amounts in figures and in Chinese capital numerals."""

from __future__ import annotations

import pytest

from console.billing.rules import capital_amount, money, parse_amount, sort_arrears

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
