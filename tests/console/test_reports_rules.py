"""The reports screen's pure rules, without a stack: the period chooser and the figures made of the services'
report answers (sites side by side, codes in a stable order, exact money, rates as percentages)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from console.i18n import Translator
from console.reports.rules import (
    chosen_period,
    collection_figure,
    daily_figures,
    department_figures,
    payment_figure,
    period_of,
    satisfaction_figures,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 2)
t = Translator({"kind.repair": "Repair", "kind.suggestion": "Suggestion", "reports.department.cleaning": "Cleaning"})


def _daily(created_by_kind: dict[str, int], created: int) -> dict[str, object]:
    return {
        "created": created,
        "created_by_kind": created_by_kind,
        "created_by_channel": {"phone": created},
        "created_by_category": {},
        "transitions": {},
        "breaches": {},
        "open_now": 5,
        "overdue_now": 1,
        "escalated_open": 0,
        "duty_log_entries": 2,
    }


def test_a_day_or_a_month_and_what_cannot_be_read_falls_back_to_today() -> None:
    assert chosen_period("day", "2026-11-30", "", TODAY) == period_of("day", date(2026, 11, 30))
    assert chosen_period("day", "not a day", "", TODAY).first == TODAY
    december = chosen_period("month", "", "2026-12", TODAY)
    assert (december.first, december.following) == (date(2026, 12, 1), date(2027, 1, 1))
    assert chosen_period("month", "", "2026-13", TODAY).month == "2026-12"
    assert chosen_period("week", "", "", TODAY).kind == "day"


def test_a_running_period_is_reported_as_of_today_and_steps_by_its_own_length() -> None:
    december = period_of("month", TODAY)
    assert december.as_of(TODAY) == TODAY
    assert period_of("month", date(2026, 10, 9)).as_of(TODAY) == date(2026, 10, 31)
    assert december.previous().month == "2026-11" and december.next().month == "2027-01"
    assert period_of("day", date(2026, 12, 31)).next().day == "2027-01-01"
    assert period_of("day", TODAY).bounds() == ("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z")


def test_the_daily_reports_of_two_sites_stand_side_by_side_kinds_in_their_usual_order() -> None:
    glance, by_kind, _, breaches = daily_figures(
        t,
        {"harbour": _daily({"suggestion": 1, "repair": 3}, 4), "riverside": _daily({"boiler": 2}, 2)},
    )
    assert [s.name for s in glance.series] == ["harbour", "riverside"]
    assert glance.series[0].values == [4, 5, 1, 0, 2]
    # Known kinds first in the intake's order, an unknown code after them (shown as the service wrote it).
    assert by_kind.labels == ["Repair", "Suggestion", "boiler"]
    assert [s.values for s in by_kind.series] == [[3, 1, 0], [0, 0, 2]]
    assert breaches.empty  # no breach that day: the page says so instead of an empty chart


def test_rates_become_percentages_and_a_site_without_the_department_shows_a_gap() -> None:
    def row(site: str, department: str, arrival: float | None) -> dict[str, object]:
        rate = {"measured": 4, "on_time": 3, "rate": arrival}
        return {"site": site, "department": department, "opened": 4, "arrival": rate, "completion": rate}

    arrival, _, opened = department_figures(
        t, {"harbour": [row("harbour", "cleaning", 0.75)], "lakeside": [row("lakeside", "lift", None)]}
    )
    assert arrival.labels == ["Cleaning", "lift"]
    assert [s.values for s in arrival.series] == [[75.0, None], [None, None]]
    assert arrival.cell(75.0) == "75.0%" and arrival.cell(None) == "—"
    assert opened.series[1].values == [None, 4]


def test_collection_shows_the_current_month_first_with_each_target_kept_or_missed() -> None:
    def period(name: str, months_ago: int, rate: float | None, target: int, meets: bool | None) -> dict[str, object]:
        return {
            "period": name,
            "months_ago": months_ago,
            "rate_percent": rate,
            "target_percent": target,
            "meets_target": meets,
        }

    figure = collection_figure(
        Translator({"reports.collection.target": "{site} {period} {target} {verdict}", "reports.collection.met": "ok"}),
        {"harbour": {"periods": [period("2026-10", 2, 100.0, 100, True), period("2026-12", 0, 50.0, 80, False)]}},
    )
    assert figure.labels == ["2026-12", "2026-10"]
    assert figure.series[0].values == [50.0, 100.0]
    assert figure.notes == ["harbour 2026-12 80 reports.collection.missed", "harbour 2026-10 100 ok"]


def test_takings_stay_exact_yuan_from_cents() -> None:
    summary = {
        "payments": 3,
        "amount_cents": 123456,
        "currency": "CNY",
        "voided": 0,
        "by_method": [
            {"method": "online", "payments": 2, "amount_cents": 123401},
            {"method": "cash", "payments": 1, "amount_cents": 55},
        ],
    }
    figure = payment_figure(t, {"harbour": summary})
    assert figure.labels == ["cash", "online"]  # the methods used, in the usual order
    assert figure.series[0].values == [Decimal("0.55"), Decimal("1234.01")]
    assert figure.cell(Decimal("1234.01")) == "1,234.01"
    assert figure.chart()["series"][0]["values"][1] == "1234.01"  # exact text for the chart, no float


def test_a_site_without_surveys_or_follow_ups_has_no_rate_rather_than_zero() -> None:
    tally = {"answered": 4, "satisfied": 2, "basically_satisfied": 1, "dissatisfied": 1, "rate": 0.75}
    answered = {
        "surveys": tally,
        "followups": tally,
        "by_department": {},
        "followups_by_department": {"cleaning": tally},
    }
    overall, by_department = satisfaction_figures(t, {"harbour": [answered], "riverside": []})
    assert [s.values for s in overall.series] == [[75.0, 75.0], [None, None]]
    assert by_department.labels == ["Cleaning"]
    assert [s.values for s in by_department.series] == [[75.0], [None]]
