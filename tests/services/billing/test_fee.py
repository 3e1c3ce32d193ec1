"""billing.fee and billing.bill: fee items with formulas, cycles and effective-dated rates, billed by the monthly
run into one bill per unit (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing.fee.models import FeeRate
from billing.fee.service import billed_in, line_for, rate_in_force, to_fen
from pm_platform.auth import mint_token
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, apply_intake, auth, events_of, intake_event
from tests.services.support import outbox_events

ITEMS = "/sites/harbour/fee-items"
SHOP = "harbour-C-0101"


async def issue(client: httpx.AsyncClient, runtime: Runtime, period: str) -> dict[str, Any]:
    response = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=auth(runtime))
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_fee_item_is_billed_by_its_formula_and_cycle_into_one_bill_per_unit(seeded, issue_day) -> None:
    runtime, client = seeded
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    issue_day(date(2026, 12, 28))
    for item in (
        {"code": "waste", "name": "Waste removal", "formula": "per_household", "rate": "30"},
        # A sinking fund (维修基金) billed once a year, in January, at a lower rate for an empty unit.
        {"code": "sinking_fund", "name": "Sinking fund", "formula": "area", "rate": "0.25", "vacant_rate": "0.10"}
        | {"cycle_months": 12},
        # Parking is billed by use: nothing on a flat.
        {"code": "parking", "name": "Parking", "formula": "per_unit", "rate": "0", "by_use": {"parking": "150"}},
    ):
        created = await client.post(ITEMS, json=item, headers=manager)
        assert created.status_code == 201, created.text
        assert created.json()["rates"][0]["effective_from"] == "2000-01"  # nothing issued yet: from the first period
    # An empty shop, billed to the party intake names.
    shop = intake_event(
        runtime,
        "intake.unit.upserted.v1",
        "u-shop",
        unit_id=SHOP,
        building="C",
        number="C-0101",
        area_m2="50.00",
        use="retail",
        occupied=False,
        paying_party_id=f"{SHOP}-owner",
    )
    assert await apply_intake(runtime, shop) == "handled"

    january = await issue(client, runtime, "2027-01")
    # A-0101, 89.50 m²: management 89.50 x 2.80 = 250.60, waste 30.00, a year's sinking fund 89.50 x 0.25 x 12 =
    # 268.50. The empty shop: management 50 x 2.80 = 140.00, no household fee, sinking fund 50 x 0.10 x 12 = 60.00.
    assert (january["charged_now"], january["units_charged"]) == (5, 5)
    bills = {e.data["unit_id"]: e.data for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")}
    assert {line["fee_item"]: line["amount_cents"] for line in bills[UNIT]["lines"]} == {
        "management_fee": 25060,
        "waste": 3000,
        "sinking_fund": 26850,
    }
    assert {line["fee_item"]: line["amount_cents"] for line in bills[SHOP]["lines"]} == {
        "management_fee": 14000,
        "sinking_fund": 6000,
    }
    assert bills[UNIT]["amount_due_cents"] == 25060 + 3000 + 26850
    assert january["total_cents"] == sum(b["charges_cents"] for b in bills.values())
    line = next(line for line in bills[UNIT]["lines"] if line["fee_item"] == "sinking_fund")
    assert line["item"] == "Sinking fund 2027-01: 89.50 m² x 0.25 x 12 months"

    # The bill reads back with its lines, the unit and the payer, and what is unpaid of it.
    clerk = auth(runtime)
    listed = (await client.get("/bills", params={"site": "harbour", "period": "2027-01"}, headers=clerk)).json()
    assert listed["total"] == 5
    bill = (await client.get(f"/bills/{bills[UNIT]['bill_id']}", headers=clerk)).json()
    assert (bill["charges_cents"], bill["outstanding_cents"], bill["payer"]["name"]) == (54910, 54910, "Li Wei")
    assert sorted(line["fee_item"] for line in bill["lines"]) == ["management_fee", "sinking_fund", "waste"]
    charges = (await client.get("/charges", params={"unit_id": UNIT, "period": "2027-01"}, headers=clerk)).json()
    assert {c["fee_item"]: c["kind"] for c in charges["items"]} == {
        "management_fee": "management_fee",
        "waste": "fee",
        "sinking_fund": "fee",
    }

    # The owner reads their own bill, not a neighbour's; an owner's list names the unit.
    owner = {
        "Authorization": "Bearer "
        + mint_token(runtime.settings, "li.wei", ["owner"], ["harbour"], party_id=f"{UNIT}-owner")
    }
    assert (await client.get(f"/bills/{bills[UNIT]['bill_id']}", headers=owner)).status_code == 200
    assert (await client.get(f"/bills/{bills['harbour-A-0102']['bill_id']}", headers=owner)).status_code == 403
    own = await client.get("/bills", params={"site": "harbour", "unit_id": UNIT}, headers=owner)
    assert own.status_code == 200 and own.json()["total"] == 1
    unnamed = await client.get("/bills", params={"site": "harbour"}, headers=owner)
    assert unnamed.status_code == 422 and unnamed.json()["field"] == "unit_id"

    # February: no sinking fund (yearly); the balance is brought forward onto the bill.
    issue_day(date(2027, 1, 28))
    await issue(client, runtime, "2027-02")
    february = {
        e.data["unit_id"]: e.data
        for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")
        if e.data["period"] == "2027-02"
    }
    assert [line["fee_item"] for line in february[UNIT]["lines"]] == ["management_fee", "waste"]
    assert (february[UNIT]["previous_balance_cents"], february[UNIT]["amount_due_cents"]) == (54910, 54910 + 28060)


async def test_a_rate_applies_from_its_period_on_never_to_a_period_issued(seeded, issue_day) -> None:
    runtime, client = seeded
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    issue_day(date(2026, 11, 28))
    await issue(client, runtime, "2026-12")
    created = await client.post(
        ITEMS,
        json={"code": "waste", "name": "Waste removal", "formula": "per_household", "rate": "30"},
        headers=manager,
    )
    assert created.status_code == 201 and created.json()["rates"][0]["effective_from"] == "2027-01"

    too_early = await client.post(
        f"{ITEMS}/waste/rates", json={"effective_from": "2026-12", "rate": "35"}, headers=manager
    )
    assert too_early.status_code == 409 and too_early.headers["content-type"] == PROBLEM_JSON
    assert (too_early.json()["field"], too_early.json()["first_open_period"]) == ("effective_from", "2027-01")
    raised = await client.post(
        f"{ITEMS}/waste/rates", json={"effective_from": "2027-02", "rate": "35"}, headers=manager
    )
    assert raised.status_code == 201, raised.text
    assert [(r["effective_from"], r["rate"]) for r in raised.json()["rates"]] == [("2027-02", "35"), ("2027-01", "30")]

    # The site's published rate is the management fee's, from the first open period on.
    settings = {"fee_rate_per_m2": "3.00"}
    assert (await client.put("/sites/harbour/billing-settings", json=settings, headers=manager)).status_code == 200
    items = {i["code"]: i for i in (await client.get(ITEMS, headers=auth(runtime))).json()}
    assert [(r["effective_from"], r["rate"]) for r in items["management_fee"]["rates"]] == [
        ("2027-01", "3"),
        ("2000-01", "2.8"),
    ]
    december = (
        await client.get("/charges", params={"unit_id": UNIT, "period": "2026-12"}, headers=auth(runtime))
    ).json()
    assert [c["amount_cents"] for c in december["items"]] == [HARBOUR_FEES[UNIT]]  # issued: unchanged

    issue_day(date(2026, 12, 28))
    await issue(client, runtime, "2027-01")
    issue_day(date(2027, 1, 28))
    await issue(client, runtime, "2027-02")
    amounts = {
        (e.data["period"], line["fee_item"]): line["amount_cents"]
        for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")
        if e.data["unit_id"] == UNIT
        for line in e.data["lines"]
    }
    assert amounts == {
        ("2026-12", "management_fee"): 25060,
        ("2027-01", "management_fee"): 26850,  # 89.50 x 3.00
        ("2027-01", "waste"): 3000,
        ("2027-02", "management_fee"): 26850,
        ("2027-02", "waste"): 3500,
    }

    # Stopped: no longer billed from the next run; its history stays.
    stopped = await client.patch(f"{ITEMS}/waste", json={"active": False}, headers=manager)
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    issue_day(date(2027, 2, 27))
    await issue(client, runtime, "2027-03")
    march = (await client.get("/charges", params={"unit_id": UNIT, "period": "2027-03"}, headers=auth(runtime))).json()
    assert [c["fee_item"] for c in march["items"]] == ["management_fee"]


async def test_fee_item_input_is_checked_and_named(seeded) -> None:
    runtime, client = seeded
    manager = auth(runtime, roles=("manager",))
    waste = {"code": "waste", "name": "Waste removal", "formula": "per_household", "rate": "30"}
    for change, field in (
        ({"formula": "by_weight"}, "formula"),
        ({"rate": "-1"}, "rate"),
        ({"code": "Waste Removal"}, "code"),
        ({"cycle_months": 2}, "cycle_months"),
        ({"by_use": {"castle": "1"}}, "by_use"),
        ({"effective_from": "2027-13"}, "effective_from"),
    ):
        bad = await client.post(ITEMS, json=waste | change, headers=manager)
        assert bad.status_code == 422 and bad.json()["field"].startswith(field), (change, bad.text)
    assert (await client.post(ITEMS, json=waste, headers=auth(runtime))).status_code == 403  # clerks apply rates
    assert (await client.post(ITEMS, json=waste, headers=manager)).status_code == 201
    again = await client.post(ITEMS, json=waste, headers=manager)
    assert again.status_code == 409 and again.json()["field"] == "code"
    assert (await client.post("/sites/riverside/fee-items", json=waste, headers=manager)).status_code == 403
    missing = await client.patch(f"{ITEMS}/nothing", json={"active": False}, headers=manager)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM_JSON


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


def rate(effective_from: str = "2000-01", value: str = "2.80", **extra: Any) -> FeeRate:
    return FeeRate(
        effective_from=effective_from,
        rate=Decimal(value),
        by_use=extra.get("by_use", {}),
        vacant_rate=extra.get("vacant_rate"),
        set_by="t",
        set_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.unit
def test_unit_a_cycle_is_billed_in_the_month_that_opens_it() -> None:
    assert [m for m in range(1, 13) if billed_in(f"2027-{m:02d}", 3)] == [1, 4, 7, 10]
    assert [m for m in range(1, 13) if billed_in(f"2027-{m:02d}", 12)] == [1]
    assert all(billed_in(f"2027-{m:02d}", 1) for m in range(1, 13))


@pytest.mark.unit
def test_unit_the_rates_in_force_are_the_latest_from_the_period_or_before() -> None:
    versions = [rate("2000-01", "2.80"), rate("2027-03", "3.00"), rate("2027-01", "2.90")]
    assert rate_in_force(versions, "2026-12") is versions[0]
    assert rate_in_force(versions, "2027-02") is versions[2]
    assert rate_in_force(versions, "2027-03") is versions[1]
    assert rate_in_force(versions[1:], "2026-12") is None


@pytest.mark.unit
def test_unit_a_line_is_quantity_times_rate_times_months_rounded_once() -> None:
    area = line_for("area", 3, rate(value="1.333"), Decimal("10.01"), "residential", True)
    assert area is not None and area.amount_cents == to_fen(Decimal("10.01") * Decimal("1.333") * 3) == 4003
    shop = line_for("area", 1, rate(by_use={"retail": "5.5"}), Decimal("10"), "retail", True)
    assert shop is not None and shop.amount_cents == 5500
    empty = line_for(
        "area", 1, rate(by_use={"retail": "5.5"}, vacant_rate=Decimal("1")), Decimal("10"), "retail", False
    )
    assert empty is not None and empty.amount_cents == 1000
    assert line_for("per_household", 1, rate(value="30"), Decimal("90"), "residential", False) is None
    per_unit = line_for("per_unit", 12, rate(value="30"), Decimal("90"), "residential", False)
    assert per_unit is not None and per_unit.amount_cents == 36000
    assert to_fen(Decimal("0.005")) == 1 and to_fen(Decimal("0.0049")) == 0
