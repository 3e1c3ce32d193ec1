"""billing.parking: the register of spaces billed by the monthly run under ``parking`` (and owned spaces'
``parking_management`` when the site sets it), and temporary parking at the gate: the fee at exit by the site's
tariff, taken with an income receipt that month-end counts under ``temporary_parking`` (on SQLite and PostgreSQL,
no NATS); then the fee's rule as unit and property tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.income import service as income_service
from billing.parking import service as parking_service
from billing.parking.service import Tariff, held_in, parking_fee
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, auth, payment
from tests.services.billing.test_monthend import adds_up, report

SPACES = "/sites/harbour/parking-spaces"
TARIFF = "/sites/harbour/parking-tariff"
SESSIONS = "/sites/harbour/parking-sessions"


def manager(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("manager",), subject="manager.harbour")


def guard(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("security",), subject="guard.harbour")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, issue_day: Callable[[date], None]) -> Callable[[datetime], None]:
    """Pin billing's clock to an instant: the site's day (issue_day) and the gate's and receipts' time."""

    def pin(at: datetime) -> None:
        issue_day(at.date())
        for module in (parking_service, income_service):
            monkeypatch.setattr(module, "utcnow", lambda: at)

    return pin


async def bill_lines(client: httpx.AsyncClient, runtime: Runtime, unit_id: str, period: str) -> dict[str, Any]:
    bills = (
        await client.get(
            "/bills", params={"site": "harbour", "unit_id": unit_id, "period": period}, headers=auth(runtime)
        )
    ).json()["items"]
    assert len(bills) == 1, bills
    bill = (await client.get(f"/bills/{bills[0]['id']}", headers=auth(runtime))).json()
    return {line["fee_item"]: line for line in bill["lines"]}


async def issue(client: httpx.AsyncClient, runtime: Runtime, period: str) -> dict[str, Any]:
    response = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=auth(runtime))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_register_is_the_managers_and_the_run_bills_each_unit_its_spaces(seeded, clock) -> None:
    runtime, client = seeded
    boss, clerk = manager(runtime), auth(runtime)
    clock(datetime(2026, 9, 30, 2, tzinfo=UTC))
    tariff = {"free_minutes": 15, "hourly_cents": 500, "daily_cap_cents": 3000, "owned_monthly_fee_cents": 6000}
    assert (await client.put(TARIFF, json=tariff, headers=clerk)).status_code == 403
    assert (await client.put(TARIFF, json=tariff, headers=boss)).status_code == 200
    spaces = [
        {"code": "B1-001", "zone": "B1", "kind": "rented", "unit_id": UNIT, "monthly_fee_cents": 30000},
        {
            "code": "B1-002",
            "zone": "B1",
            "kind": "leased",
            "unit_id": UNIT,
            "monthly_fee_cents": 25000,
            "starts_on": "2026-10-20",
        },
        {"code": "B1-003", "zone": "B1", "kind": "owned", "unit_id": "harbour-A-0102"},
        {
            "code": "B1-004",
            "zone": "B1",
            "kind": "rented",
            "unit_id": "harbour-A-1201",
            "monthly_fee_cents": 30000,
            "ends_on": "2026-09-30",
        },
        {"code": "G-001", "zone": "地面", "kind": "rented", "monthly_fee_cents": 20000},  # free for rent: nobody pays
    ]
    assert (await client.post(SPACES, json=spaces[0], headers=clerk)).status_code == 403
    made = {}
    for space in spaces:
        created = await client.post(SPACES, json=space, headers=boss)
        assert created.status_code == 201, created.text
        made[space["code"]] = created.json()
    refusals = [
        ({**spaces[0], "code": "B1-009", "monthly_fee_cents": None}, 422, "monthly_fee_cents"),
        ({**spaces[2], "code": "B1-009", "monthly_fee_cents": 100}, 422, "monthly_fee_cents"),
        ({**spaces[0], "code": "B1-009", "unit_id": "riverside-T1-1501"}, 422, "unit_id"),
        ({**spaces[0], "code": "B1-009", "starts_on": "2026-10-02", "ends_on": "2026-10-01"}, 422, "ends_on"),
        (spaces[0], 409, "code"),
    ]
    for body, status, field in refusals:
        refused = await client.post(SPACES, json=body, headers=boss)
        assert (refused.status_code, refused.json().get("field")) == (status, field), refused.text
    listed = (await client.get(SPACES, params={"unit_id": UNIT}, headers=clerk)).json()
    assert [s["code"] for s in listed["items"]] == ["B1-001", "B1-002"]
    assert (await client.get(f"/parking-spaces/{made['B1-003']['id']}", headers=guard(runtime))).status_code == 200

    clock(datetime(2026, 10, 1, 2, tzinfo=UTC))
    await issue(client, runtime, "2026-10")
    october = await bill_lines(client, runtime, UNIT, "2026-10")
    assert october["parking"]["amount_cents"] == 55000
    assert october["parking"]["item"] == "Parking 2026-10: B1-001 (rented), B1-002 (leased)"
    assert october["management_fee"]["amount_cents"] == HARBOUR_FEES[UNIT]
    assert (await bill_lines(client, runtime, "harbour-A-0102", "2026-10"))["parking_management"][
        "amount_cents"
    ] == 6000
    assert set(await bill_lines(client, runtime, "harbour-A-1201", "2026-10")) == {"management_fee"}

    # Paid in full: month-end and the collection rate show parking as its own fee item.
    paid = payment("BANK-PARK-1", HARBOUR_FEES[UNIT] + 55000, received_at="2026-10-08T02:00:00Z")
    assert (await client.post("/payments", json=paid, headers=clerk)).status_code == 201
    clock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    month = await report(client, runtime, "2026-10")
    adds_up(month)
    items = {i["fee_item"]: i for i in month["items"]}
    assert (items["parking"]["billed_cents"], items["parking"]["collected_cents"]) == (55000, 55000)
    assert (items["parking_management"]["billed_cents"], items["parking_management"]["outstanding_cents"]) == (
        6000,
        6000,
    )
    collection = (
        await client.get("/collection", params={"site": "harbour", "period": "2026-10"}, headers=clerk)
    ).json()
    rates = {f["fee_item"]: f for f in collection["sites"][0]["periods"][0]["fee_items"]}
    assert rates["parking"]["rate_percent"] == 100.0

    # B1-001 given up at the end of October: November bills B1-002 only; a change of kind keeps the checks.
    ended = await client.patch(f"/parking-spaces/{made['B1-001']['id']}", json={"ends_on": "2026-10-31"}, headers=boss)
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2026-10-31"
    owned = await client.patch(f"/parking-spaces/{made['B1-002']['id']}", json={"kind": "owned"}, headers=boss)
    assert (owned.status_code, owned.json()["field"]) == (422, "monthly_fee_cents")
    await issue(client, runtime, "2026-11")
    november = await bill_lines(client, runtime, UNIT, "2026-11")
    assert (november["parking"]["amount_cents"], november["parking"]["item"]) == (
        25000,
        "Parking 2026-11: B1-002 (leased)",
    )


async def test_a_fee_item_of_the_same_code_shadows_the_register(seeded, clock) -> None:
    """A site that bills parking as a fee item of its own keeps one parking charge per unit and period."""
    runtime, client = seeded
    boss = manager(runtime)
    clock(datetime(2026, 9, 30, 2, tzinfo=UTC))
    space = {"code": "B1-001", "zone": "B1", "kind": "rented", "unit_id": UNIT, "monthly_fee_cents": 30000}
    assert (await client.post(SPACES, json=space, headers=boss)).status_code == 201
    item = {"code": "parking", "name": "车位管理费", "formula": "per_unit", "rate": "80", "effective_from": "2026-10"}
    assert (await client.post("/sites/harbour/fee-items", json=item, headers=boss)).status_code == 201
    clock(datetime(2026, 10, 1, 2, tzinfo=UTC))
    result = await issue(client, runtime, "2026-10")
    assert (await bill_lines(client, runtime, UNIT, "2026-10"))["parking"]["amount_cents"] == 8000
    assert any(s["unit_id"] == UNIT and s["reason"].startswith("parking:") for s in result["skipped"]), result


async def test_temporary_parking_at_the_gate_is_taken_with_a_receipt_and_counted_at_month_end(seeded, clock) -> None:
    runtime, client = seeded
    gate, clerk = guard(runtime), auth(runtime)
    morning = datetime(2026, 11, 10, 2, tzinfo=UTC)  # 10:00 in Shanghai
    clock(morning)
    entered = await client.post(SESSIONS, json={"plate": "沪a12345"}, headers=gate)
    assert entered.status_code == 201, entered.text
    car = entered.json()
    assert car["plate"] == "沪A12345"
    again = await client.post(SESSIONS, json={"plate": "沪A12345"}, headers=gate)
    assert (again.status_code, again.json()["field"], again.json()["id"]) == (409, "plate", car["id"])
    assert (
        await client.post(SESSIONS, json={"plate": "沪B1"}, headers=auth(runtime, roles=("agent",)))
    ).status_code == 403
    future = await client.post(SESSIONS, json={"plate": "沪C1", "entered_at": "2026-11-11T00:00:00Z"}, headers=gate)
    assert (future.status_code, future.json()["field"]) == (422, "entered_at")
    no_tariff = await client.post(f"/parking-sessions/{car['id']}/exit", json={}, headers=gate)
    assert (no_tariff.status_code, no_tariff.json()["field"]) == (409, "site")

    tariff = {"free_minutes": 15, "hourly_cents": 500, "daily_cap_cents": 3000}
    assert (await client.put(TARIFF, json=tariff, headers=manager(runtime))).status_code == 200
    clock(morning + timedelta(minutes=10))  # out within the free minutes: nothing to pay, no receipt
    free = await client.post(f"/parking-sessions/{car['id']}/exit", json={}, headers=gate)
    assert free.status_code == 200, free.text
    assert (free.json()["fee_cents"], free.json()["receipt"]) == (0, None)
    gone = await client.post(f"/parking-sessions/{car['id']}/exit", json={}, headers=gate)
    assert (gone.status_code, gone.json()["field"]) == (409, "session_id")

    clock(morning + timedelta(hours=1))
    car = (await client.post(SESSIONS, json={"plate": "沪A12345"}, headers=gate)).json()
    truck = (
        await client.post(SESSIONS, json={"plate": "沪D99999", "entered_at": "2026-11-09T00:00:00Z"}, headers=gate)
    ).json()
    clock(morning + timedelta(hours=3, minutes=30))  # 2.5 hours: three started hours
    shown = (await client.get(f"/parking-sessions/{car['id']}", headers=clerk)).json()
    assert shown["due_now_cents"] == 1500
    inside = (await client.get(SESSIONS, params={"inside": "true"}, headers=gate)).json()
    assert {s["plate"] for s in inside["items"]} == {"沪A12345", "沪D99999"}
    stale = await client.post(f"/parking-sessions/{car['id']}/exit", json={"expected_cents": 1000}, headers=gate)
    assert (stale.status_code, stale.json()["field"], stale.json()["fee_cents"]) == (409, "expected_cents", 1500)
    unsaid = await client.post(f"/parking-sessions/{car['id']}/exit", json={"expected_cents": 1500}, headers=gate)
    assert (unsaid.status_code, unsaid.json()["field"]) == (422, "method")
    paid = await client.post(
        f"/parking-sessions/{car['id']}/exit", json={"method": "cash", "expected_cents": 1500}, headers=gate
    )
    assert paid.status_code == 200, paid.text
    receipt = paid.json()["receipt"]
    assert (receipt["receipt_no"], receipt["fee_item"], receipt["amount_cents"], receipt["payer"]) == (
        "HARBOUR-SR-000001",
        "temporary_parking",
        1500,
        "沪A12345",
    )
    assert receipt["item"] == "Temporary parking 沪A12345 2026-11-10 11:00 - 2026-11-10 13:30"
    # In since 08:00 the day before: 29.5 hours is one day's cap and 6 started hours, capped again.
    truck_out = await client.post(
        f"/parking-sessions/{truck['id']}/exit", json={"method": "card", "reference": "POS-1"}, headers=gate
    )
    assert truck_out.json()["receipt"]["amount_cents"] == 6000
    assert truck_out.json()["receipt"]["receipt_no"] == "HARBOUR-SR-000002"
    assert (await client.get(f"/income-receipts/{receipt['id']}", headers=gate)).json()["receipt_no"] == (
        "HARBOUR-SR-000001"
    )

    # A receipt taken in error is voided by a clerk that day (never by the gate), and stops counting.
    wrong = truck_out.json()["receipt"]["id"]
    assert (
        await client.post(f"/income-receipts/{wrong}/void", json={"reason": "typo"}, headers=gate)
    ).status_code == 403
    voided = await client.post(f"/income-receipts/{wrong}/void", json={"reason": "card charged twice"}, headers=clerk)
    assert voided.status_code == 200 and voided.json()["voided_by"] == "clerk.1"
    listed = (
        await client.get("/income-receipts", params={"site": "harbour", "month": "2026-11"}, headers=clerk)
    ).json()
    assert [r["receipt_no"] for r in listed["items"]] == ["HARBOUR-SR-000002", "HARBOUR-SR-000001"]

    clock(morning + timedelta(days=1))
    late = await client.post(f"/income-receipts/{receipt['id']}/void", json={"reason": "late"}, headers=clerk)
    assert (late.status_code, late.json()["field"]) == (409, "income_id")
    month = await report(client, runtime, "2026-11")
    adds_up(month)
    items = {i["fee_item"]: i for i in month["items"]}
    assert (items["temporary_parking"]["billed_cents"], items["temporary_parking"]["collected_cents"]) == (1500, 1500)
    assert items["temporary_parking"]["outstanding_cents"] == 0
    assert {t["method"]: t["amount_cents"] for t in month["takings"]} == {"cash": 1500}
    assert (month["received_cents"], month["income_cents"]) == (1500, 1500)


# --- the rules --------------------------------------------------------------------------------------------

RULE = Tariff(free_minutes=15, hourly_cents=500, daily_cap_cents=3000)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("stay", "fee"),
    [
        (timedelta(0), 0),
        (timedelta(minutes=15), 0),  # within the free minutes
        (timedelta(minutes=15, seconds=1), 500),  # then from entry: the first started hour
        (timedelta(hours=1), 500),
        (timedelta(hours=1, seconds=1), 1000),
        (timedelta(hours=6), 3000),  # the cap
        (timedelta(hours=23, minutes=59), 3000),
        (timedelta(hours=24), 3000),
        (timedelta(hours=24, minutes=30), 3500),
        (timedelta(hours=48), 6000),
        (timedelta(days=3, hours=2), 10000),
        (timedelta(seconds=-5), 0),  # a clock step back never charges
    ],
)
def test_the_fee_of_a_stay(stay: timedelta, fee: int) -> None:
    assert parking_fee(stay, RULE) == fee


@pytest.mark.unit
def test_a_cap_above_a_days_hours_is_a_days_hours() -> None:
    assert parking_fee(timedelta(hours=30), Tariff(0, 100, 999_999)) == 2400 + 600


tariffs = st.builds(
    Tariff,
    free_minutes=st.integers(0, 24 * 60),
    hourly_cents=st.integers(1, 10_000),
    daily_cap_cents=st.integers(1, 100_000),
)
stays = st.integers(0, 10 * 24 * 3600).map(lambda s: timedelta(seconds=s))


@pytest.mark.unit
@given(tariffs, stays, stays)
def test_the_fee_grows_with_the_stay(tariff: Tariff, stay: timedelta, more: timedelta) -> None:
    assert parking_fee(stay, tariff) <= parking_fee(stay + more, tariff)


@pytest.mark.unit
@given(tariffs, stays)
def test_the_fee_never_passes_the_cap_per_started_day(tariff: Tariff, stay: timedelta) -> None:
    days = max(1, -(-int(stay.total_seconds()) // (24 * 3600)))
    fee = parking_fee(stay, tariff)
    assert 0 <= fee <= tariff.daily_cap_cents * days
    assert fee <= -(-int(stay.total_seconds()) // 3600) * tariff.hourly_cents  # nor the hours' price


@pytest.mark.unit
def test_a_holding_pays_every_month_it_touches() -> None:
    assert held_in("2026-10", date(2026, 10, 31), None)
    assert held_in("2026-10", None, date(2026, 10, 1))
    assert not held_in("2026-10", date(2026, 11, 1), None)
    assert not held_in("2026-10", None, date(2026, 9, 30))
