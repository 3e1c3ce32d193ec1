"""billing.period: billing periods, their fees and due dates, and the site's billing settings (on SQLite and
PostgreSQL, no NATS).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from billing.account.service import timers  # the overdue timers (not the daily dunning run)
from billing.bill import service as bill_service
from billing.period.service import due_date_of, fee_cents, fee_due_date, period_of, shift_period
from pm_events.billing import BillIssued
from pm_platform import db
from pm_platform.contracts import ContractViolation
from pm_platform.problems import PROBLEM_JSON
from pm_platform.timers import fire_due
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, apply_intake, auth, events_of, intake_event
from tests.services.support import outbox_events


async def test_issuing_a_period_charges_area_times_rate_once_per_unit(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 9, 28))  # ahead of the period: the due day stands (it is later than 28 Sep + 15 days)
    clerk = auth(runtime)
    response = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert response.status_code == 201, response.text
    issued = response.json()
    assert (issued["created"], issued["charged_now"], issued["units_charged"]) == (True, 4, 4)
    assert (issued["total_cents"], issued["fee_rate_per_m2"], issued["due_date"]) == (125104, "2.8", "2026-10-15")
    assert issued["skipped"] == [{"unit_id": "harbour-B-0302", "reason": "no paying party"}]
    fees = (await client.get("/charges", params={"site": "harbour", "period": "2026-10"}, headers=clerk)).json()
    assert {c["unit_id"]: c["amount_cents"] for c in fees["items"]} == HARBOUR_FEES
    assert {c["kind"] for c in fees["items"]} == {"management_fee"}

    events = await outbox_events(runtime)
    # The run's charges go out on the bills, one per unit, not one by one.
    assert events_of(events, "billing.charge.recorded.v1") == []
    bills = events_of(events, "billing.bill.issued.v1")
    assert {
        e.data["unit_id"]: (e.data["amount_due_cents"], e.data["period"], e.data["due_date"], len(e.data["lines"]))
        for e in bills
    } == {unit: (cents, "2026-10", "2026-10-15", 1) for unit, cents in HARBOUR_FEES.items()}
    assert {e.data["previous_balance_cents"] for e in bills} == {0}
    statuses = events_of(events, "billing.account.status_changed.v1")
    assert {e.data["unit_id"]: e.data["balance_cents"] for e in statuses} == HARBOUR_FEES
    assert {e.data["reason"] for e in statuses} == {"period_issued"}

    # Issued again: nothing twice.
    again = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["charged_now"], again.json()["id"]) == (False, 0, issued["id"])
    assert len(await outbox_events(runtime)) == len(events)

    # The unsold unit is sold: issuing again charges it alone, at the period's rate.
    sold = intake_event(
        runtime,
        "intake.party.upserted.v1",
        "p-new",
        party_id="harbour-B-0302-owner",
        unit_id="harbour-B-0302",
        name="New Owner",
        phone="13800000009",
        extra_care=[],
    )
    assert await apply_intake(runtime, sold) == "handled"
    once_more = (
        await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    ).json()
    assert (once_more["charged_now"], once_more["units_charged"], once_more["total_cents"]) == (1, 5, 125104 + 26600)
    periods = (await client.get("/billing-periods", params={"site": "harbour"}, headers=clerk)).json()
    assert [(p["period"], p["units_charged"]) for p in periods] == [("2026-10", 5)]

    bad_month = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-13"}, headers=clerk)
    assert bad_month.status_code == 422 and bad_month.json()["field"] == "period"
    far_ahead = await client.post("/billing-periods", json={"site": "harbour", "period": "2099-01"}, headers=clerk)
    assert far_ahead.status_code == 422 and far_ahead.json()["field"] == "period"
    no_rate = await client.post(
        "/billing-periods", json={"site": "elsewhere", "period": "2026-10"}, headers=auth(runtime, sites=("elsewhere",))
    )
    assert no_rate.status_code == 409 and no_rate.json()["field"] == "site"
    other_site = await client.post("/billing-periods", json={"site": "riverside", "period": "2026-10"}, headers=clerk)
    assert other_site.status_code == 403 and other_site.headers["content-type"] == PROBLEM_JSON
    agent = await client.post(
        "/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=auth(runtime, roles=("agent",))
    )
    assert agent.status_code == 403


async def test_site_billing_settings_are_set_by_managers(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 2, 1))
    url = "/sites/harbour/billing-settings"
    assert (await client.get(url, headers=auth(runtime))).json()["fee_rate_per_m2"] == "2.8"
    update = {"fee_rate_per_m2": "3.05", "fee_due_day": 31, "target_current_pct": 85}
    assert (await client.put(url, json=update, headers=auth(runtime))).status_code == 403
    manager = auth(runtime, roles=("manager",))
    saved = await client.put(url, json=update, headers=manager)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["fee_rate_per_m2"], saved.json()["target_current_pct"]) == ("3.05", 85)
    assert saved.json()["fee_grace_days"] == 15  # the default
    invalid = await client.put(url, json={**update, "fee_rate_per_m2": "-1"}, headers=manager)
    assert invalid.status_code == 422 and invalid.json()["field"] == "fee_rate_per_m2"
    other = await client.put("/sites/riverside/billing-settings", json=update, headers=manager)
    assert other.status_code == 403
    assert (await client.get("/sites/riverside/billing-settings", headers=auth(runtime))).status_code == 403
    assert (await client.get(url, headers=auth(runtime, roles=("worker",)))).status_code == 403
    periods_elsewhere = await client.get("/billing-periods", params={"site": "riverside"}, headers=auth(runtime))
    assert periods_elsewhere.status_code == 403
    # February has no 31st: the fee falls due on its last day; 89.50 x 3.05 = 272.975 -> 272.98.
    issued = (
        await client.post("/billing-periods", json={"site": "harbour", "period": "2026-02"}, headers=auth(runtime))
    ).json()
    assert issued["due_date"] == "2026-02-28"
    fees = (await client.get("/charges", params={"unit_id": UNIT, "period": "2026-02"}, headers=auth(runtime))).json()
    assert [c["amount_cents"] for c in fees["items"]] == [27298]


async def test_a_period_issued_after_its_due_day_is_due_a_grace_period_after_the_issue(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk, manager = auth(runtime), auth(runtime, roles=("manager",))
    url = "/sites/harbour/billing-settings"
    assert (await client.get(url, headers=clerk)).json()["fee_grace_days"] == 15  # seeded from the demo
    # Issued on 23 Nov for November, due day 15: due 15 days after the issue, not on the 15th already past.
    issue_day(date(2026, 11, 23))
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-11"}, headers=clerk)
    assert issued.status_code == 201, issued.text
    due = date(2026, 12, 8)
    assert issued.json()["due_date"] == due.isoformat()
    fees = (await client.get("/charges", params={"site": "harbour", "period": "2026-11"}, headers=clerk)).json()
    assert {c["due_date"] for c in fees["items"]} == {due.isoformat()}
    statuses = events_of(await outbox_events(runtime), "billing.account.status_changed.v1")
    assert {(e.data["overdue_cents"], e.data["in_arrears"]) for e in statuses} == {(0, False)}
    for as_of, overdue in (("2026-11-23", 0), ("2026-12-08", 0), ("2026-12-09", HARBOUR_FEES[UNIT])):
        account = (
            await client.get(f"/accounts/{UNIT}", params={"site": "harbour", "as_of": as_of}, headers=clerk)
        ).json()
        assert (account["overdue_cents"], account["in_arrears"]) == (overdue, overdue > 0), as_of

    # The overdue timer fires at the site's midnight after the due date (00:00 on 9 Dec in Shanghai is 16:00 UTC
    # on the 8th), not before.
    assert await fire_due(runtime, timers, now=datetime(2026, 12, 8, 15, 59, tzinfo=UTC)) == 0
    # One timer for the site and the due day, not one per unit.
    assert await fire_due(runtime, timers, now=datetime(2026, 12, 8, 16, 1, tzinfo=UTC)) == 1
    fell_due = [
        e
        for e in events_of(await outbox_events(runtime), "billing.account.status_changed.v1")
        if e.data["reason"] == "overdue"
    ]
    assert {
        e.data["unit_id"]: (e.data["overdue_cents"], e.data["in_arrears"], e.data["oldest_due"]) for e in fell_due
    } == {unit: (cents, True, due.isoformat()) for unit, cents in HARBOUR_FEES.items()}

    # The grace is a site setting: a manager shortens it, and the next late period uses it.
    saved = await client.put(url, json={"fee_rate_per_m2": "2.80", "fee_grace_days": 5}, headers=manager)
    assert saved.status_code == 200 and saved.json()["fee_grace_days"] == 5
    assert (await client.put(url, json={"fee_rate_per_m2": "2.80", "fee_grace_days": -1}, headers=manager)).json()[
        "field"
    ] == "fee_grace_days"
    issue_day(date(2026, 12, 20))
    december = (
        await client.post("/billing-periods", json={"site": "harbour", "period": "2026-12"}, headers=clerk)
    ).json()
    assert december["due_date"] == "2026-12-25"


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_periods_are_months_that_shift_across_years() -> None:
    assert period_of(date(2026, 1, 31)) == "2026-01"
    assert shift_period("2026-11", 2) == "2027-01"
    assert shift_period("2026-01", -1) == "2025-12"
    assert shift_period("2026-03", -14) == "2025-01"


@pytest.mark.unit
def test_unit_a_fee_is_due_on_its_due_day_or_a_grace_period_after_a_late_issue() -> None:
    assert due_date_of("2026-11", 15) == date(2026, 11, 15)
    assert due_date_of("2026-02", 31) == date(2026, 2, 28)  # the last day of a short month
    assert due_date_of("2028-02", 31) == date(2028, 2, 29)
    assert fee_due_date("2026-11", 15, issued_on=date(2026, 11, 1), grace_days=10) == date(2026, 11, 15)
    assert fee_due_date("2026-11", 15, issued_on=date(2026, 11, 20), grace_days=10) == date(2026, 11, 30)


@pytest.mark.unit
def test_unit_a_fee_is_area_times_rate_to_whole_fen_rounded_half_up() -> None:
    assert fee_cents(Decimal("89.50"), Decimal("2.80")) == 25060
    assert fee_cents(Decimal("0.125"), Decimal("1")) == 13  # 12.5 fen rounds up
    assert fee_cents(Decimal("0.124"), Decimal("1")) == 12


async def test_a_run_whose_event_cannot_be_built_leaves_nothing_and_the_next_run_bills(
    seeded, issue_day, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The charges and bills are written while the bills' events are built: when an event fails, the writes still
    end before the transaction rolls back, and the session is left fit for the next run."""
    runtime, client = seeded
    issue_day(date(2026, 9, 28))
    clerk = auth(runtime)
    built = bill_service.bill_issued
    calls: list[str] = []

    def second_fails(bill: dict[str, Any]) -> BillIssued:
        calls.append(bill["unit_id"])
        if len(calls) == 2:
            raise ContractViolation("data/lines: broken on purpose")
        return built(bill)

    monkeypatch.setattr(db, "YIELD_EVERY", 1)  # the writer runs between every two events
    monkeypatch.setattr(bill_service, "bill_issued", second_fails)
    failed = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert failed.status_code == 500 and len(calls) == 2
    nothing = await client.get("/charges", params={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert nothing.json()["items"] == []
    assert await outbox_events(runtime) == []

    monkeypatch.setattr(bill_service, "bill_issued", built)
    response = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert response.status_code == 201, response.text
    assert response.json()["charged_now"] == 4
    fees = (await client.get("/charges", params={"site": "harbour", "period": "2026-10"}, headers=clerk)).json()
    assert {c["unit_id"]: c["amount_cents"] for c in fees["items"]} == HARBOUR_FEES
