"""billing.rental: contracts for advertising space, storerooms and venues; a unit's rent billed by the monthly run
per cycle within the contract, an outside renter's taken at the counter with an income receipt, both in month-end
under the kind's fee item (on SQLite and PostgreSQL, no NATS); then the cycles as unit tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from billing.income import service as income_service
from billing.rental import service as rental_service
from billing.rental.service import cycle_periods, opens_cycle
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import UNIT, auth
from tests.services.billing.test_monthend import adds_up, report
from tests.services.billing.test_parking import bill_lines, issue, manager

CONTRACTS = "/sites/harbour/rental-contracts"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, issue_day: Callable[[date], None]) -> Callable[[datetime], None]:
    def pin(at: datetime) -> None:
        issue_day(at.date())
        for module in (rental_service, income_service):
            monkeypatch.setattr(module, "utcnow", lambda: at)

    return pin


async def contract(client: httpx.AsyncClient, runtime: Runtime, **body: Any) -> dict[str, Any]:
    created = await client.post(CONTRACTS, json=body, headers=manager(runtime))
    assert created.status_code == 201, created.text
    made: dict[str, Any] = created.json()
    return made


async def test_a_units_rent_is_billed_per_cycle_and_an_outside_renters_taken_at_the_counter(seeded, clock) -> None:
    runtime, client = seeded
    clerk, boss = auth(runtime), manager(runtime)
    clock(datetime(2026, 9, 30, 2, tzinfo=UTC))
    storeroom = {
        "kind": "storeroom",
        "subject": "储藏室 S-12",
        "unit_id": UNIT,
        "starts_on": "2026-10-15",
        "ends_on": "2027-03-14",
        "rent_cents": 20000,
        "deposit_cents": 40000,
    }
    assert (await client.post(CONTRACTS, json=storeroom, headers=clerk)).status_code == 403
    refusals = [
        ({**storeroom, "renter_name": "Acme"}, "renter_name"),
        ({**storeroom, "unit_id": None}, "renter_name"),
        ({**storeroom, "ends_on": "2026-10-14"}, "ends_on"),
        ({**storeroom, "unit_id": "riverside-T1-1501"}, "unit_id"),
    ]
    for body, field in refusals:
        refused = await client.post(CONTRACTS, json=body, headers=boss)
        assert (refused.status_code, refused.json()["field"]) == (422, field), refused.text
    store = await contract(client, runtime, **storeroom)
    assert (store["fee_item"], store["deposit_cents"]) == ("storeroom_rent", 40000)
    venue = await contract(
        client,
        runtime,
        kind="venue",
        subject="会所多功能厅",
        unit_id=UNIT,
        starts_on="2026-09-01",
        ends_on="2027-08-31",
        rent_cents=90000,
        cycle_months=3,
    )
    billboard = await contract(
        client,
        runtime,
        kind="advertising",
        subject="A座1号梯轿厢广告位",
        renter_name="Acme 广告",
        starts_on="2026-10-01",
        ends_on="2027-09-30",
        rent_cents=150000,
        cycle_months=3,
    )

    clock(datetime(2026, 10, 1, 2, tzinfo=UTC))
    await issue(client, runtime, "2026-10")
    october = await bill_lines(client, runtime, UNIT, "2026-10")
    assert (october["storeroom_rent"]["amount_cents"], october["storeroom_rent"]["item"]) == (
        20000,
        "Storeroom rent 2026-10: 储藏室 S-12",
    )
    assert "venue_rent" not in october  # its quarter opened in September

    # The outside renter pays the quarter opening in October at the counter.
    rent = f"/rental-contracts/{billboard['id']}/rent-receipts"
    assert (await client.post(rent, json={"period": "2026-10", "method": "cash"}, headers=boss)).status_code == 403
    not_a_cycle = await client.post(rent, json={"period": "2026-11", "method": "cash"}, headers=clerk)
    assert (not_a_cycle.status_code, not_a_cycle.json()["field"]) == (422, "period")
    paid = await client.post(rent, json={"period": "2026-10", "method": "online", "reference": "WX-1"}, headers=clerk)
    assert paid.status_code == 201, paid.text
    assert (paid.json()["receipt_no"], paid.json()["fee_item"], paid.json()["amount_cents"]) == (
        "HARBOUR-SR-000001",
        "advertising_rent",
        150000,
    )
    twice = await client.post(rent, json={"period": "2026-10", "method": "cash"}, headers=clerk)
    assert (twice.status_code, twice.json()["field"]) == (409, "source_id")
    on_a_unit = await client.post(
        f"/rental-contracts/{store['id']}/rent-receipts", json={"period": "2026-10", "method": "cash"}, headers=clerk
    )
    assert (on_a_unit.status_code, on_a_unit.json()["field"]) == (409, "contract_id")
    read = (await client.get(f"/rental-contracts/{billboard['id']}", headers=clerk)).json()
    assert (read["paid_periods"], read["unpaid_periods"]) == (["2026-10"], [])

    clock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    month = await report(client, runtime, "2026-10")
    adds_up(month)
    items = {i["fee_item"]: i for i in month["items"]}
    assert (items["advertising_rent"]["billed_cents"], items["advertising_rent"]["collected_cents"]) == (150000, 150000)
    assert (items["storeroom_rent"]["billed_cents"], items["storeroom_rent"]["outstanding_cents"]) == (20000, 20000)

    # The venue's contract ends early, at the end of November: December's quarter is never billed.
    ended = await client.patch(f"/rental-contracts/{venue['id']}", json={"ends_on": "2026-11-30"}, headers=boss)
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2026-11-30"
    clock(datetime(2026, 12, 1, 2, tzinfo=UTC))
    await issue(client, runtime, "2026-12")
    assert "venue_rent" not in await bill_lines(client, runtime, UNIT, "2026-12")

    clock(datetime(2027, 1, 5, 2, tzinfo=UTC))
    late = (await client.get(f"/rental-contracts/{billboard['id']}", headers=clerk)).json()
    assert late["unpaid_periods"] == ["2027-01"]
    running = await client.get(CONTRACTS, params={"current_on": "2027-01-05", "kind": "advertising"}, headers=clerk)
    assert [c["id"] for c in running.json()["items"]] == [billboard["id"]]


async def test_a_quarterly_venue_is_billed_in_the_month_opening_each_quarter(seeded, clock) -> None:
    runtime, client = seeded
    clock(datetime(2026, 9, 30, 2, tzinfo=UTC))
    await contract(
        client,
        runtime,
        kind="venue",
        subject="会所多功能厅",
        unit_id=UNIT,
        starts_on="2026-10-01",
        ends_on="2027-09-30",
        rent_cents=90000,
        cycle_months=3,
    )
    clock(datetime(2026, 10, 1, 2, tzinfo=UTC))
    await issue(client, runtime, "2026-10")
    line = (await bill_lines(client, runtime, UNIT, "2026-10"))["venue_rent"]
    assert (line["amount_cents"], line["item"]) == (90000, "Venue rent 2026-10: 会所多功能厅 x 3 months")
    clock(datetime(2026, 11, 1, 2, tzinfo=UTC))
    await issue(client, runtime, "2026-11")
    assert "venue_rent" not in await bill_lines(client, runtime, UNIT, "2026-11")


@pytest.mark.unit
def test_the_cycles_of_a_contract() -> None:
    start, end = date(2026, 11, 15), date(2027, 12, 14)
    assert cycle_periods(start, end, 3, "2099-12") == ["2026-11", "2027-02", "2027-05", "2027-08", "2027-11"]
    assert cycle_periods(start, end, 12, "2099-12") == ["2026-11", "2027-11"]
    assert cycle_periods(start, end, 1, "2027-01") == ["2026-11", "2026-12", "2027-01"]
    assert cycle_periods(start, end, 1, "2026-10") == []
    assert opens_cycle(start, end, 3, "2027-11") and not opens_cycle(start, end, 3, "2027-12")
    assert not opens_cycle(start, end, 3, "2026-08") and not opens_cycle(start, end, 1, "2028-01")
