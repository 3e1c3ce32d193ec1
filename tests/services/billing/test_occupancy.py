"""billing.occupancy: each unit's stays kept from intake's move-ins and move-outs (a repeat or a late older event
changes nothing), the monthly run prorating the periodic fees of a unit whose occupancy changes inside the period,
and a move-out's settlement: the final bill to the move-out day (a credit when the period was billed in full, the
final meter reading charged), the tenancy deposit paying what is owed, the key/card deposit back per key and card
returned, and the account closed. On SQLite and PostgreSQL, intake's events applied through billing's inbox."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import select

from billing.account.models import Charge
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, TIERED_WATER, UNIT, apply_intake, auth, events_of, intake_event
from tests.services.support import outbox_events

MOVED_IN, MOVED_OUT = "intake.occupancy.moved_in.v1", "intake.occupancy.moved_out.v1"
REQUESTED, CONFIRMED = "intake.occupancy.settlement_requested.v1", "billing.settlement.confirmed.v1"
A0102, A1201, B0301 = "harbour-A-0102", "harbour-A-1201", "harbour-B-0301"


async def moved_in(runtime: Runtime, event_id: str, unit_id: str, party: str, day: str, at: str) -> str:
    event = intake_event(
        runtime,
        MOVED_IN,
        event_id,
        move_in_id=f"mi-{event_id}",
        unit_id=unit_id,
        party_id=f"{unit_id}-{party}",
        move_in_date=day,
        moved_in_at=at,
    )
    return await apply_intake(runtime, event)


async def moved_out(runtime: Runtime, event_id: str, unit_id: str, party: str, day: str, at: str, **more: Any) -> str:
    event = intake_event(
        runtime,
        MOVED_OUT,
        event_id,
        move_out_id=f"mo-{event_id}",
        unit_id=unit_id,
        party_id=f"{unit_id}-{party}",
        move_out_date=day,
        moved_out_at=at,
        **more,
    )
    return await apply_intake(runtime, event)


async def occupancy(client: httpx.AsyncClient, runtime: Runtime, unit_id: str = UNIT) -> dict[str, Any]:
    response = await client.get(f"/units/{unit_id}/occupancy", headers=auth(runtime))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def issue(client: httpx.AsyncClient, runtime: Runtime, period: str) -> dict[str, Any]:
    response = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=auth(runtime))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fee_lines(runtime: Runtime, period: str) -> dict[str, list[tuple[str, int]]]:
    """Per unit, its bill's management-fee lines for the period (text, fen)."""
    return {
        e.data["unit_id"]: [(line["item"], line["amount_cents"]) for line in e.data["lines"]]
        for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")
        if e.data["period"] == period
    }


async def test_stays_are_kept_from_intake_and_a_late_older_event_changes_nothing(seeded) -> None:
    runtime, client = seeded
    assert await moved_in(runtime, "in-1", UNIT, "owner", "2026-11-12", "2026-11-12T02:00:00+00:00") == "handled"
    assert await moved_in(runtime, "in-1", UNIT, "owner", "2026-11-12", "2026-11-12T02:00:00+00:00") == "duplicate"
    assert await moved_out(runtime, "out-1", UNIT, "owner", "2026-11-20", "2026-11-20T02:00:00+00:00") == "handled"
    # Late and older: a move-in before the one held, a move-out of an earlier stay (before the move-in held).
    await moved_in(runtime, "in-0", UNIT, "owner", "2026-10-01", "2026-10-01T02:00:00+00:00")
    await moved_out(runtime, "out-0", UNIT, "owner", "2026-11-02", "2026-11-02T02:00:00+00:00")
    body = await occupancy(client, runtime)
    [stay] = body["stays"]
    assert (stay["move_in_date"], stay["move_out_date"], stay["move_in_id"], stay["move_out_id"]) == (
        "2026-11-12",
        "2026-11-20",
        "mi-in-1",
        "mo-out-1",
    )
    assert (body["occupied"], body["account_status"], body["final_charges"]) == (False, "open", [])

    # The owner's move-out arrives before the move-in of the same stay: the move-in (older) keeps it.
    await moved_out(runtime, "out-2", A0102, "owner", "2026-11-25", "2026-11-25T02:00:00+00:00")
    await moved_in(runtime, "in-2", A0102, "owner", "2026-11-03", "2026-11-03T02:00:00+00:00")
    [stay] = (await occupancy(client, runtime, A0102))["stays"]
    assert (stay["move_in_date"], stay["move_out_date"]) == ("2026-11-03", "2026-11-25")
    # A newer move-in after the move-out starts a new stay of the same party.
    await moved_in(runtime, "in-3", A0102, "owner", "2026-12-05", "2026-12-05T02:00:00+00:00")
    [stay] = (await occupancy(client, runtime, A0102))["stays"]
    assert (stay["move_in_date"], stay["move_out_date"]) == ("2026-12-05", None)

    elsewhere = await client.get(f"/units/{UNIT}/occupancy", headers=auth(runtime, sites=("riverside",)))
    assert elsewhere.status_code == 403
    assert (await client.get("/units/harbour-Z-9999/occupancy", headers=auth(runtime))).status_code == 404


async def test_the_run_charges_the_occupied_days_of_a_unit_moving_in_or_out_inside_the_period(
    seeded, issue_day
) -> None:
    runtime, client = seeded
    # A-0101: the owner from the 12th. A-0102: its owner out on the 10th (billing never heard of the move-in).
    # B-0301: one party out on the 15th and the next in that day (every day occupied). A-1201: nothing changes.
    await moved_in(runtime, "in-a", UNIT, "owner", "2026-11-12", "2026-11-12T02:00:00+00:00")
    await moved_out(runtime, "out-b", A0102, "owner", "2026-11-10", "2026-11-10T02:00:00+00:00")
    await moved_out(runtime, "out-c", B0301, "owner", "2026-11-15", "2026-11-15T02:00:00+00:00")
    await moved_in(runtime, "in-c", B0301, "tenant", "2026-11-15", "2026-11-15T03:00:00+00:00")
    issue_day(date(2026, 11, 28))
    await issue(client, runtime, "2026-11")
    lines = await fee_lines(runtime, "2026-11")
    assert lines[UNIT] == [("Property management fee 2026-11: 89.50 m² x 2.8, 19/30 days", 15871)]  # 250.60 x 19/30
    assert lines[A0102] == [("Property management fee 2026-11: 120.00 m² x 2.8, 9/30 days", 10080)]  # 336.00 x 9/30
    assert [amount for _, amount in lines[B0301]] == [HARBOUR_FEES[B0301]]
    assert [amount for _, amount in lines[A1201]] == [HARBOUR_FEES[A1201]]
    # December: nothing changes inside it any more, so every unit is billed in full as it stands.
    issue_day(date(2026, 11, 30))
    await issue(client, runtime, "2026-12")
    december = await fee_lines(runtime, "2026-12")
    assert [amount for _, amount in december[UNIT]] == [HARBOUR_FEES[UNIT]]


async def deposits_returned(runtime: Runtime) -> dict[str, dict[str, Any]]:
    return {e.data["purpose"]: e.data for e in events_of(await outbox_events(runtime), "billing.deposit.returned.v1")}


async def takings(client: httpx.AsyncClient, runtime: Runtime, month: str) -> dict[str, int]:
    report = await client.get("/sites/harbour/month-report", params={"month": month}, headers=auth(runtime))
    assert report.status_code == 200, report.text
    return {t["method"]: t["amount_cents"] for t in report.json()["takings"]}


async def collection(client: httpx.AsyncClient, runtime: Runtime, period: str) -> list[Any]:
    params = {"site": "harbour", "as_of": "2026-12-18", "period": period}
    response = await client.get("/collection", params=params, headers=auth(runtime))
    assert response.status_code == 200, response.text
    return [(p["billed_cents"], p["collected_cents"]) for p in response.json()["sites"][0]["periods"]]


async def test_a_move_out_is_charged_to_its_day_its_deposits_settled_and_its_account_closed(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    issue_day(date(2026, 11, 28))
    await issue(client, runtime, "2026-12")  # December billed in full: 250.60 owed
    water = {"code": "water", "name": "Water", "formula": "metered", "meter_kind": "water", "rate": "3.5"}
    assert (await client.post("/sites/harbour/fee-items", json=water, headers=manager)).status_code == 201
    meter = {"kind": "water", "serial": "W-A0101", "unit_id": UNIT, "opening_reading": "100"}
    assert (await client.post("/sites/harbour/meters", json=meter, headers=clerk)).status_code == 201

    # The clerk takes the deposits at the move-in: held money, each with a deposit receipt; never income.
    before = (await takings(client, runtime, "2026-11"), await collection(client, runtime, "2026-12"))
    tenancy = await client.post(
        f"/units/{UNIT}/deposits",
        json={"purpose": "tenancy", "amount_cents": 100000, "method": "cash", "party_id": f"{UNIT}-owner"},
        headers=clerk,
    )
    assert tenancy.status_code == 201, tenancy.text
    assert (tenancy.json()["status"], tenancy.json()["receipt_no"]) == ("paid", "HARBOUR-YJ-000001")
    items = [
        {"number": "A0101-1", "amount_cents": 5000},
        {"number": "A0101-2", "amount_cents": 5000},
        {"number": "C-100231", "amount_cents": 2000},
    ]
    keys = await client.post(
        f"/units/{UNIT}/deposits", json={"purpose": "key_card", "items": items, "method": "cash"}, headers=clerk
    )
    assert keys.status_code == 201, keys.text
    assert (keys.json()["amount_cents"], keys.json()["reference"], keys.json()["items"]) == (
        12000,
        f"{UNIT}-owner",
        items,
    )
    again = await client.post(
        f"/units/{UNIT}/deposits", json={"purpose": "tenancy", "amount_cents": 1, "method": "cash"}, headers=clerk
    )
    assert again.status_code == 409 and again.json()["field"] == "party_id"
    assert (await takings(client, runtime, "2026-11"), await collection(client, runtime, "2026-12")) == before
    held = events_of(await outbox_events(runtime), "billing.deposit.held.v1")
    assert [(e.data["purpose"], e.data["status"], e.data["amount_cents"]) for e in held] == [
        ("tenancy", "paid", 100000),
        ("key_card", "paid", 12000),
    ]

    # Moving out on 17 December: December was billed in full, so its unoccupied 15 days come back as a credit
    # (250.60 - 250.60 x 16/31 = 121.26); the final water reading 120 is charged (20 m³ x 3.5 = 70.00); the tenancy
    # deposit pays what is left (250.60 - 121.26 + 70.00 = 199.34) and 800.66 goes back; the account closes.
    issue_day(date(2026, 12, 18))
    requested = intake_event(
        runtime,
        REQUESTED,
        "evt-mo-1",
        settlement_id="mo-1",
        move_out_date="2026-12-17",
        final_readings=[{"meter": "water", "value": "120"}, {"meter": "electricity", "value": "1520.4"}],
    )
    assert await apply_intake(runtime, requested) == "handled"
    [answer] = [e.data for e in events_of(await outbox_events(runtime), CONFIRMED)]
    assert (answer["cleared"], answer["balance_cents"], answer["owed_cents"], answer["final_charges_cents"]) == (
        True,
        0,
        0,
        -12126 + 7000,
    )
    finals = (await occupancy(client, runtime))["final_charges"]
    assert [(f["kind"], f["period"], f["days"], f["span_days"], f["amount_cents"]) for f in finals] == [
        ("credit", "2026-12", 15, 31, -12126),
        ("metered", "2027-01", None, None, 7000),
    ]
    returned = {
        e.data["purpose"]: e.data for e in events_of(await outbox_events(runtime), "billing.deposit.returned.v1")
    }
    assert (returned["tenancy"]["deducted_cents"], returned["tenancy"]["returned_cents"]) == (19934, 80066)
    assert returned["tenancy"]["deductions"] == [
        {"reason": "Unpaid balance at the move-out", "amount_cents": 19934, "kind": "unpaid_balance"}
    ]
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert (account["balance_cents"], account["closed"]) == (0, True)
    assert [p["method"] for p in account["payments"]] == ["deposit"]  # arrears paid out of the deposit, receipted
    settlement = (await client.get("/settlements", params={"site": "harbour"}, headers=clerk)).json()["items"][0]
    assert settlement["final_charges_cents"] == -5126
    assert any("electricity" in note for note in settlement["final_notes"])  # no electricity meter: not billed
    # The water reading is the meter's for January: the next period is measured from it.
    readings = await client.get("/sites/harbour/meter-readings", params={"period": "2027-01"}, headers=clerk)
    assert [(r["serial"], r["value"], r["consumption"]) for r in readings.json()["items"]] == [("W-A0101", "120", "20")]

    # Asked again (the same move-out): nothing is charged twice.
    again_requested = intake_event(runtime, REQUESTED, "evt-mo-1b", settlement_id="mo-1", move_out_date="2026-12-17")
    await apply_intake(runtime, again_requested)
    assert len((await occupancy(client, runtime))["final_charges"]) == 2

    # The move-out completes with one key and the card given back: their deposits come back, the other key's stays.
    assert (
        await moved_out(
            runtime,
            "out-1",
            UNIT,
            "owner",
            "2026-12-17",
            "2026-12-17T08:00:00+00:00",
            keys=[{"number": "A0101-1"}],
            cards=["C-100231"],
        )
        == "handled"
    )
    returned = {
        e.data["purpose"]: e.data for e in events_of(await outbox_events(runtime), "billing.deposit.returned.v1")
    }
    assert (returned["key_card"]["returned_cents"], returned["key_card"]["deducted_cents"]) == (7000, 5000)
    assert returned["key_card"]["deductions"] == [
        {"reason": "Key or card A0101-2 not returned", "amount_cents": 5000, "kind": "not_returned"}
    ]
    # Deposits never count as income: December's takings are the deposit's payment of the arrears only.
    assert await takings(client, runtime, "2026-12") == {"deposit": 19934}

    # January's run leaves the water the settlement charged alone and bills the rest; a new move-in reopens the account.
    await moved_in(runtime, "in-9", UNIT, "tenant", "2027-01-01", "2027-01-01T02:00:00+00:00")
    assert (await occupancy(client, runtime))["account_status"] == "open"
    issue_day(date(2026, 12, 28))
    await issue(client, runtime, "2027-01")
    january = await fee_lines(runtime, "2027-01")
    assert [amount for _, amount in january[UNIT]] == [HARBOUR_FEES[UNIT]]
    async with runtime.sessionmaker() as session:
        water_charges = (await session.scalars(select(Charge).where(Charge.fee_item == "water"))).all()
    assert {(c.unit_id, c.amount_cents) for c in water_charges if c.unit_id == UNIT} == {(UNIT, 7000)}


async def test_a_move_out_in_a_period_not_billed_yet_is_charged_its_occupied_days(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 11, 28))
    await issue(client, runtime, "2026-11")
    await moved_in(runtime, "in-1", A0102, "owner", "2026-10-01", "2026-10-01T02:00:00+00:00")
    issue_day(date(2026, 12, 10))
    requested = intake_event(
        runtime,
        REQUESTED,
        "evt-mo-2",
        settlement_id="mo-2",
        unit_id=A0102,
        party_id=f"{A0102}-owner",
        move_out_date="2026-12-10",
        final_readings=[],
    )
    await apply_intake(runtime, requested)
    [answer] = [e.data for e in events_of(await outbox_events(runtime), CONFIRMED)]
    # November (336.00) and December's 9 days (336.00 x 9/31 = 97.548 -> 97.55); nothing held to pay it: owed.
    assert (answer["final_charges_cents"], answer["owed_cents"], answer["cleared"]) == (9755, 33600 + 9755, False)
    [final] = (await occupancy(client, runtime, A0102))["final_charges"]
    assert (final["kind"], final["period"], final["days"], final["amount_cents"]) == ("prorated", "2026-12", 9, 9755)
    account = (await client.get(f"/accounts/{A0102}", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert account["closed"] is False  # closed only once the settlement clears
    [charge] = [c for c in account["charges"] if c["period"] == "2026-12"]
    assert charge["item"] == "Property management fee 2026-12: to the move-out on 2026-12-10, 9/31 days"

    # December's run: A-0102's fee was settled to its move-out day; every other unit is billed as usual.
    issue_day(date(2026, 12, 11))
    await issue(client, runtime, "2026-12")
    december = await fee_lines(runtime, "2026-12")
    assert A0102 not in december  # nothing left to bill it for December
    assert december[UNIT] == [("Property management fee 2026-12: 89.50 m² x 2.8", HARBOUR_FEES[UNIT])]


async def test_the_run_bills_a_moved_out_units_shared_water_and_the_water_after_its_final_reading(
    seeded, issue_day
) -> None:
    """A move-out charges the leaving party its own meter to the final reading; the period's run bills the rest of
    the unit's period to its paying party: the shares of the shared meter (公摊) and what the meter measured after
    the final reading, at the tariff of the whole period, less what the settlement charged."""
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    issue_day(date(2026, 11, 28))
    await issue(client, runtime, "2026-11")
    assert (await client.post("/sites/harbour/fee-items", json=TIERED_WATER, headers=manager)).status_code == 201
    meters: dict[str, str] = {}
    for serial, unit_id, opening, scope in (
        ("W-A0101", UNIT, "100", "unit"),
        ("W-A0102", A0102, "200", "unit"),
        ("W-A1201", A1201, "50", "unit"),
        ("W-A", None, "1000", "building"),
    ):
        place = {"unit_id": unit_id} if unit_id else {"building": "A"}
        body = {"kind": "water", "serial": serial, "opening_reading": opening, "scope": scope, **place}
        created = await client.post("/sites/harbour/meters", json=body, headers=clerk)
        assert created.status_code == 201, created.text
        meters[serial] = created.json()["id"]

    # Moving out on 10 December with the water meter at 106: 6 m³ x 3.50 = 21.00 charged to the leaving party.
    issue_day(date(2026, 12, 10))
    requested = intake_event(
        runtime,
        REQUESTED,
        "evt-mo-3",
        settlement_id="mo-3",
        move_out_date="2026-12-10",
        final_readings=[{"meter": "water", "value": "106"}],
    )
    assert await apply_intake(runtime, requested) == "handled"
    finals = (await occupancy(client, runtime))["final_charges"]
    assert [(f["kind"], f["period"], f["amount_cents"]) for f in finals if f["kind"] == "metered"] == [
        ("metered", "2026-12", 2100)
    ]

    # December is read at the month's end: A-0101's meter went on to 112 (6 m³ after the move-out), and the building
    # meter measured 9 m³ more than its unit meters (44 less 12 + 15 + 8), shared by area: 2.29, 3.07 and 3.64.
    for serial, value in (("W-A0101", "112"), ("W-A0102", "215"), ("W-A1201", "58"), ("W-A", "1044")):
        response = await client.post(
            f"/meters/{meters[serial]}/readings", json={"period": "2026-12", "value": value}, headers=clerk
        )
        assert response.status_code == 201, response.text
    issue_day(date(2026, 12, 28))
    await issue(client, runtime, "2026-12")
    december = await fee_lines(runtime, "2026-12")
    # A-0101's period: 14.29 m³ (12 + 2.29 shared) = 10 x 3.50 + 4.29 x 5.00 = 56.45, less the 21.00 settled. Its
    # management fee was settled to the move-out day: the water is all its December bill holds.
    assert december[UNIT] == [
        ("Water 2026-12: 14.29 (12.00 + 2.29 shared), less 21.00 charged at the move-out", 5645 - 2100)
    ]
    # A unit without a move-out: 18.07 m³ (15 + 3.07) = 35.00 + 8.07 x 5.00 = 75.35.
    assert ("Water 2026-12: 18.07 (15.00 + 3.07 shared)", 7535) in december[A0102]
    # The building's water is billed whole: every unit's period at the tariff, whoever paid which part.
    async with runtime.sessionmaker() as session:
        water_charges = (await session.scalars(select(Charge).where(Charge.fee_item == "water"))).all()  # December's
    billed: dict[str, int] = {}
    for charge in water_charges:
        billed[charge.unit_id] = billed.get(charge.unit_id, 0) + charge.amount_cents
    assert billed == {UNIT: 5645, A0102: 7535, A1201: 4320}  # 11.64 m³ (8 + 3.64) = 35.00 + 1.64 x 5.00
