"""The late-fee, instalment-plan, bank-statement and meter pages' rules without a browser: the daily rate as contracts
write it, the policy and plan forms' bodies and the inputs a refusal names, an even schedule, an import's bad rows,
the readings waiting for a re-read, and which workers see the meter screen."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.billing.form_rules import (
    BadRow,
    add_months,
    bad_rows,
    behind_cents,
    daily_rate_of,
    even_schedule,
    flagged,
    instalments_of,
    per_myriad,
    plan_input,
    policy_body,
    to_record,
    typed_readings,
)
from console.billing.statements import by_hand
from console.permissions import screens_for

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("fraction", "myriad"), [("0.000500", "5"), ("0.000550", "5.5"), ("0", "0"), ("0.000000", "0"), ("0.01", "100")]
)
def test_the_daily_rate_shows_per_ten_thousand_a_day(fraction: str, myriad: str) -> None:
    assert per_myriad(fraction) == myriad


@pytest.mark.parametrize(
    ("typed", "fraction"),
    [("5", "0.0005"), (" 5.5 ", "0.00055"), ("0.01", "0.000001"), ("5‱", "0.0005"), ("0", "0"), ("300", "0.03")],
)
def test_a_rate_typed_per_ten_thousand_goes_to_billing_as_a_fraction(typed: str, fraction: str) -> None:
    assert daily_rate_of(typed) == fraction  # 300 ‱ goes as typed: billing's 422 says it is above its cap


@pytest.mark.parametrize("typed", ["", "five", "0.005", "NaN", "Infinity", "1e2x"])
def test_a_rate_that_is_not_a_plain_number_with_two_decimals_is_refused_here(typed: str) -> None:
    assert daily_rate_of(typed) is None


def test_the_policy_form_becomes_billing_s_body_with_the_fixed_amount_in_fen() -> None:
    form = {"mode": "daily", "grace_days": "15", "daily_rate": "5", "fixed": "20.50", "cap_pct": "30"}
    assert policy_body(form) == (
        {"mode": "daily", "grace_days": 15, "daily_rate": "0.0005", "fixed_cents": 2050, "cap_pct": 30},
        {},
    )
    # Blanks are billing's defaults; a whole number that is not one goes as typed so billing names it.
    assert policy_body({"mode": "none", "grace_days": "-3"}) == ({"mode": "none", "grace_days": "-3"}, {})
    body, errors = policy_body({"mode": "fixed", "daily_rate": "abc", "fixed": "1.234"})
    assert body == {"mode": "fixed"}
    assert errors == {"daily_rate": "latefee.policy.rate_format", "fixed": "billing.new.amount_format"}


def test_months_add_up_to_the_month_s_last_day_when_it_is_shorter() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 2) == date(2027, 1, 15)
    assert add_months(date(2026, 3, 31), 0) == date(2026, 3, 31)


def test_an_even_schedule_puts_the_odd_fen_first() -> None:
    assert even_schedule(100_001, 3, date(2026, 12, 10)) == [
        (date(2026, 12, 10), 33_334),
        (date(2027, 1, 10), 33_334),
        (date(2027, 2, 10), 33_333),
    ]
    with pytest.raises(ValueError, match="fen"):
        even_schedule(2, 3, date(2026, 12, 10))


@given(
    total=st.integers(min_value=24, max_value=10**11),
    count=st.integers(min_value=2, max_value=24),
    first=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
)
def test_an_even_schedule_adds_up_to_the_total_on_rising_days_a_fen_apart_at_most(
    total: int, count: int, first: date
) -> None:
    schedule = even_schedule(total, count, first)
    dues, amounts = [due for due, _ in schedule], [cents for _, cents in schedule]
    assert sum(amounts) == total and len(schedule) == count
    assert dues == sorted(set(dues)) and dues[0] == first
    assert max(amounts) - min(amounts) <= 1


def test_the_plan_form_s_filled_rows_become_instalments_and_a_refusal_finds_its_row() -> None:
    form = {
        "due-1": "2026-12-10",
        "amount-1": "100",
        "due-3": "2027-01-10",  # row 2 left empty
        "amount-3": "200.50",
        "due-4": "2027-02-10",
        "amount-5": "1.234",
        "due-5": "2027-03-10",
    }
    found = instalments_of(form, rows=6)
    assert found.body == [
        {"due": "2026-12-10", "amount_cents": 10_000},
        {"due": "2027-01-10", "amount_cents": 20_050},
    ]
    assert found.rows == [1, 3]
    assert found.errors == {"row-4": "plan.new.row_incomplete", "row-5": "billing.new.amount_format"}
    # billing's index among the instalments sent is the form's row among those filled
    assert plan_input("installments.1.due", found.rows) == "row-3"
    assert plan_input("installments.0.amount_cents", found.rows) == "row-1"
    assert plan_input("installments.9.due", found.rows) == "installments"
    assert plan_input("installments", found.rows) == "installments"
    assert plan_input("unit_id", found.rows) == "unit_id"
    assert plan_input("site", found.rows) == "unit_id"
    assert plan_input(None, found.rows) == "installments"


def test_a_plan_is_behind_by_what_fell_due_less_what_was_paid() -> None:
    assert behind_cents({"due_by_now_cents": 30_000, "paid_cents": 10_000}) == 20_000
    assert behind_cents({"due_by_now_cents": 10_000, "paid_cents": 30_000}) == 0
    assert behind_cents({"due_by_now_cents": None, "paid_cents": None}) == 0


def test_an_import_s_bad_rows_read_the_same_from_a_statement_and_from_readings() -> None:
    statement = [{"line": 4, "reason": "amount 'x' is not a number"}, {"line": 2, "reason": "reference twice"}]
    readings = [{"row": 3, "field": "value", "message": "required"}, {"row": 3, "field": "serial", "message": "no"}]
    assert bad_rows(statement) == [BadRow(2, "", "reference twice"), BadRow(4, "", "amount 'x' is not a number")]
    assert bad_rows(readings) == [BadRow(3, "serial", "no"), BadRow(3, "value", "required")]
    assert bad_rows([]) == []


def test_confirming_a_statement_records_the_matched_transfers_not_recorded_before() -> None:
    rows = [
        {"status": "to_record", "amount_cents": 100},
        {"status": "already_recorded", "amount_cents": 200},
        {"status": "unmatched", "amount_cents": 400},
        {"status": "to_record", "amount_cents": 800},
        {"status": "month_closed", "amount_cents": 1600},
    ]
    assert to_record(rows) == (2, 900)
    assert to_record([]) == (0, 0)


def test_the_readings_waiting_for_a_re_read_are_the_flagged_ones() -> None:
    readings = [{"status": s, "serial": s} for s in ("ok", "below_last", "missing", "abnormal", "confirmed")]
    assert [r["serial"] for r in flagged(readings)] == ["below_last", "abnormal"]
    form = {"value-m1": " 12.5 ", "value-m2": "", "value-m3": "7", "other": "x"}
    assert typed_readings(form, ["m1", "m2", "m3", "m4"]) == {"m1": "12.5", "m3": "7"}


def test_the_meter_screen_is_for_engineering_s_workers_clerks_and_managers() -> None:
    meters = ("/billing/meters", "meter.screen")
    assert meters in screens_for(["worker"], "engineering")
    assert meters not in screens_for(["worker"], "cleaning")
    assert meters not in screens_for(["worker"])
    for role in ("billing_clerk", "manager", "head_office"):
        assert meters in screens_for([role])
    assert meters in screens_for(["worker", "manager"], "cleaning")  # a manager sees it whatever the department
    for role in ("agent", "supervisor", "security"):
        assert meters not in screens_for([role])


def test_the_collection_screens_sit_by_the_billing_screens() -> None:
    clerk = screens_for(["billing_clerk"])
    for screen in (
        ("/billing/late-fees", "latefee.screen"),
        ("/billing/bank-statements", "statement.screen"),
        ("/billing/instalment-plans", "plan.screen"),
    ):
        assert screen in clerk
    manager = screens_for(["manager"])
    assert ("/billing/late-fees", "latefee.screen") in manager
    assert ("/billing/bank-statements", "statement.screen") not in manager  # a clerk records payments
    assert ("/billing/instalment-plans", "plan.screen") in manager


def test_an_unmatched_transfer_fills_the_payment_form_as_the_import_would_record_it() -> None:
    row = {
        "amount_cents": 5_050,
        "reference": "R-9",
        "day": "2026-12-01",
        "payer": "孙伟",
        "memo": "代缴",
        "status": "",
    }
    now = datetime(2026, 12, 3, 9, 30)
    filled = parse_qs(urlsplit(by_hand("harbour", {**row, "status": "unmatched"}, now)).query)
    assert filled == {
        "site": ["harbour"],
        "method": ["transfer"],
        "amount": ["50.50"],
        "reference": ["BANK-R-9"],  # the import's own reference: the statement again reports it as recorded
        "note": ["bank statement: 孙伟 代缴"],
        "received_at": ["2026-12-01T12:00"],
    }
    today = parse_qs(urlsplit(by_hand("harbour", {**row, "day": "2026-12-03", "status": "unmatched"}, now)).query)
    assert today["received_at"] == ["2026-12-03T09:30"]  # noon not come yet: now
    closed = parse_qs(urlsplit(by_hand("harbour", {**row, "status": "month_closed"}, now)).query)
    assert "received_at" not in closed  # recorded in the open month, when the clerk records it
