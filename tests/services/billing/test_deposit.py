"""billing.deposit: decoration deposits from intake's approved and settled permits, received by a clerk, returned
less deductions (on SQLite and PostgreSQL, intake's events applied through billing's inbox); a deposit is held
money, never income."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from billing.account.models import Charge
from billing.deposit.models import DepositStatus, move, split
from pm_platform.auth import mint_token
from pm_platform.envelope import utcnow
from pm_platform.errors import Conflict
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.sitetime import month_of_instant
from tests.services.billing.helpers import UNIT, apply_intake, auth, events_of, intake_event
from tests.services.support import outbox_events

APPROVED = "intake.decoration.approved.v1"
SETTLED = "intake.decoration.settled.v1"
HELD = "billing.deposit.held.v1"
RETURNED = "billing.deposit.returned.v1"
CHARGED = "billing.charge.recorded.v1"


async def approve(runtime: Runtime, event_id: str = "evt-approved-1", **changes: Any) -> str:
    return await apply_intake(runtime, intake_event(runtime, APPROVED, event_id, **changes))


async def settle(runtime: Runtime, event_id: str = "evt-settled-1", **changes: Any) -> str:
    return await apply_intake(runtime, intake_event(runtime, SETTLED, event_id, **changes))


async def charges(runtime: Runtime) -> list[Charge]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(Charge).order_by(Charge.recorded_at))).all())


async def the_deposit(client: Any, runtime: Runtime, **params: Any) -> dict[str, Any]:
    listing = await client.get("/deposits", params={"site": "harbour", **params}, headers=auth(runtime))
    assert listing.status_code == 200, listing.text
    [deposit] = listing.json()["items"]
    return deposit


async def receive(client: Any, runtime: Runtime, deposit_id: str, **body: Any) -> Any:
    return await client.post(
        f"/deposits/{deposit_id}/receive",
        json=body or {"method": "transfer", "reference": "BANK-1"},
        headers=auth(runtime),
    )


async def test_an_approved_permit_asks_for_its_deposit_and_charges_its_fee_once(seeded) -> None:
    runtime, client = seeded
    assert await approve(runtime) == "handled"
    assert await approve(runtime) == "duplicate"
    assert await approve(runtime, "evt-approved-again") == "handled"  # the same permit approved twice: no double

    deposit = await the_deposit(client, runtime)
    assert (deposit["purpose"], deposit["reference"], deposit["unit_id"]) == ("decoration", "dp-7f3a", UNIT)
    assert (deposit["amount_cents"], deposit["status"], deposit["allowed_actions"]) == (
        200000,
        "requested",
        ["receive"],
    )
    [fee] = await charges(runtime)
    assert (fee.kind, fee.amount_cents, fee.unit_id, fee.id) == (
        "decoration_fee",
        30000,
        UNIT,
        deposit["fee_charge_id"],
    )

    events = await outbox_events(runtime)
    [recorded] = events_of(events, CHARGED)
    assert (recorded.data["kind"], recorded.data["amount_cents"], recorded.causationid) == (
        "decoration_fee",
        30000,
        "evt-approved-1",
    )
    [held] = events_of(events, HELD)
    assert (held.data["status"], held.data["amount_cents"], held.data["reference"]) == ("requested", 200000, "dp-7f3a")
    assert held.subject == deposit["id"]
    # The unit's fee balance counts the fee (income) and never the deposit (held money).
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert account["balance_cents"] == 30000


async def test_a_clerk_receives_the_deposit_with_a_deposit_receipt_and_it_never_counts_as_income(seeded) -> None:
    runtime, client = seeded
    await approve(runtime)
    deposit = await the_deposit(client, runtime)
    before = len(await outbox_events(runtime))

    received = await receive(client, runtime, deposit["id"])
    assert received.status_code == 200, received.text
    body = received.json()
    assert (body["status"], body["method"], body["payment_reference"]) == ("paid", "transfer", "BANK-1")
    assert body["receipt_no"] == "HARBOUR-YJ-000001" and body["received_by"] == "clerk.1"
    [held] = events_of((await outbox_events(runtime))[before:], HELD)
    assert (held.data["status"], held.data["deposit_id"]) == ("paid", deposit["id"])

    again = await receive(client, runtime, deposit["id"])
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM_JSON
    assert again.json()["current_status"] == "paid"
    assert len(await outbox_events(runtime)) == before + 1  # the 409 changed nothing

    # Held money: not in the balance, the takings or the payments; the collection report sees only the fee.
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert (account["balance_cents"], account["paid_cents"], account["payments"]) == (30000, 0, [])
    summary = await client.get(
        "/payments/summary",
        params={"site": "harbour", "month": month_of_instant(utcnow(), "Asia/Shanghai")},
        headers=auth(runtime),
    )
    assert summary.json()["amount_cents"] == 0


async def test_settlement_returns_the_deposit_less_deductions_and_charges_what_they_exceed_it_by(seeded) -> None:
    runtime, client = seeded
    await approve(runtime, deposit_cents=50000)
    deposit = await the_deposit(client, runtime)
    await receive(client, runtime, deposit["id"])
    deductions = [
        {"reason": "Fine: noisy work at 21:30", "amount_cents": 20000, "kind": "fine"},
        {"reason": "Lift car panel dented", "amount_cents": 45000, "kind": "damage"},
    ]
    before = len(await outbox_events(runtime))
    assert await settle(runtime, deductions=deductions) == "handled"
    assert await settle(runtime, "evt-settled-again", deductions=deductions[:1]) == "handled"  # changes nothing

    returned = (await client.get(f"/deposits/{deposit['id']}", headers=auth(runtime))).json()
    assert (returned["status"], returned["deducted_cents"], returned["returned_cents"]) == ("returned", 50000, 0)
    assert [d["reason"] for d in returned["deductions"]] == [d["reason"] for d in deductions]
    shortfall = [c for c in await charges(runtime) if c.kind == "deposit_deduction"]
    assert [(c.amount_cents, c.id) for c in shortfall] == [(15000, returned["shortfall_charge_id"])]

    events = (await outbox_events(runtime))[before:]
    [event] = events_of(events, RETURNED)
    assert (event.data["held_cents"], event.data["deducted_cents"], event.data["returned_cents"]) == (50000, 50000, 0)
    assert [d["amount_cents"] for d in event.data["deductions"]] == [20000, 45000]
    assert event.causationid == "evt-settled-1"
    [charged] = events_of(events, CHARGED)
    assert (charged.data["kind"], charged.data["amount_cents"]) == ("deposit_deduction", 15000)


async def test_a_settlement_before_the_deposit_is_paid_waits_and_is_applied_when_it_is(seeded) -> None:
    runtime, client = seeded
    await approve(runtime)
    deposit = await the_deposit(client, runtime)
    before = len(await outbox_events(runtime))
    assert await settle(runtime) == "handled"
    waiting = (await client.get(f"/deposits/{deposit['id']}", headers=auth(runtime))).json()
    assert (waiting["status"], waiting["settlement_pending"]) == ("requested", True)
    assert len(await outbox_events(runtime)) == before

    received = (await receive(client, runtime, deposit["id"])).json()
    assert (received["status"], received["returned_cents"], received["deducted_cents"]) == ("returned", 180000, 20000)
    events = (await outbox_events(runtime))[before:]
    assert [e.type for _, e in events] == [HELD, RETURNED]
    assert events[1][1].correlationid == events[0][1].correlationid


async def test_a_settlement_for_an_unknown_permit_is_retried_not_dropped(seeded) -> None:
    runtime, _ = seeded
    with pytest.raises(Exception, match="no deposit yet"):
        await settle(runtime)


async def test_a_zero_deposit_is_paid_at_once_and_a_zero_fee_charges_nothing(seeded) -> None:
    runtime, client = seeded
    await approve(runtime, deposit_cents=0, fee_cents=0)
    deposit = await the_deposit(client, runtime)
    assert (deposit["status"], deposit["fee_charge_id"]) == ("paid", None)
    assert await charges(runtime) == []
    [(_, held)] = await outbox_events(runtime)
    assert held.data["status"] == "paid"


async def test_who_sees_and_receives_deposits(seeded) -> None:
    runtime, client = seeded
    await approve(runtime)
    await approve(runtime, "evt-riverside", site="riverside", unit_id="riverside-T1-1501", permit_id="dp-r1")
    deposit = await the_deposit(client, runtime)
    path = f"/deposits/{deposit['id']}"

    for roles in (("manager",), ("billing_clerk",)):
        assert (await client.get(path, headers=auth(runtime, roles=roles))).status_code == 200
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    assert (await client.get("/deposits", headers=head_office)).json()["total"] == 2
    assert (await client.get("/deposits", headers=auth(runtime))).json()["total"] == 1  # the clerk's site only
    filtered = await client.get("/deposits", params={"status": "paid", "purpose": "decoration"}, headers=head_office)
    assert filtered.json()["total"] == 0
    bad = await client.get("/deposits", params={"status": "lost"}, headers=head_office)
    assert bad.status_code == 422 and bad.json()["field"] == "query.status"
    assert (await client.get(path, headers=auth(runtime, roles=("agent",)))).status_code == 403
    assert (await client.get(path, headers=auth(runtime, sites=("riverside",)))).status_code == 403
    assert (await client.get("/deposits/nope", headers=auth(runtime))).status_code == 404
    manager = auth(runtime, roles=("manager",))
    assert (await client.post(f"{path}/receive", json={"method": "cash"}, headers=manager)).status_code == 403
    wrong = await client.post(f"{path}/receive", json={"method": "cheque"}, headers=auth(runtime))
    assert wrong.status_code == 422 and wrong.json()["field"] == "method"

    def owner(party: str) -> dict[str, str]:
        token = mint_token(runtime.settings, party, ["owner"], ["harbour"], party_id=party)
        return {"Authorization": f"Bearer {token}"}

    mine = owner("harbour-A-0101-owner")
    assert (await client.get(path, headers=mine)).status_code == 200
    assert (await client.get("/deposits", params={"unit_id": UNIT}, headers=mine)).json()["total"] == 1
    assert (await client.get("/deposits", headers=mine)).status_code == 403
    other = owner("harbour-A-0102-owner")
    assert (await client.get(path, headers=other)).status_code == 403


@pytest.mark.unit
def test_unit_deductions_come_out_of_the_deposit_and_the_rest_is_owed() -> None:
    assert split(200000, []) == split(200000, [])
    assert (split(200000, []).returned_cents, split(200000, []).shortfall_cents) == (200000, 0)
    within = split(200000, [20000, 5000])
    assert (within.deducted_cents, within.returned_cents, within.shortfall_cents) == (25000, 175000, 0)
    beyond = split(50000, [20000, 45000])
    assert (beyond.deducted_cents, beyond.returned_cents, beyond.shortfall_cents) == (50000, 0, 15000)


@pytest.mark.unit
def test_unit_the_deposit_state_machine() -> None:
    assert move("d", DepositStatus.requested, "receive") == DepositStatus.paid
    assert move("d", DepositStatus.paid, "return") == DepositStatus.returned
    for status, action in [
        (DepositStatus.paid, "receive"),
        (DepositStatus.returned, "receive"),
        (DepositStatus.requested, "return"),
        (DepositStatus.returned, "return"),
    ]:
        with pytest.raises(Conflict) as raised:
            move("d", status, action)
        assert raised.value.extra["current_status"] == str(status)


async def test_a_clerk_takes_tenancy_and_key_card_deposits_at_a_move_in_and_bad_ones_name_their_field(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    url = f"/units/{UNIT}/deposits"

    async def refused(body: dict[str, Any], headers: dict[str, str] | None = None, url: str = url) -> Any:
        response = await client.post(url, json=body, headers=headers or clerk)
        assert response.status_code >= 400, response.text
        return response

    tenancy = {"purpose": "tenancy", "amount_cents": 200000, "method": "transfer", "reference": "BANK-9"}
    with_items = await refused({**tenancy, "items": [{"number": "K-1", "amount_cents": 100}]})
    assert (with_items.status_code, with_items.json()["field"]) == (422, "items")
    no_amount = await refused({"purpose": "tenancy", "method": "cash"})
    assert (no_amount.status_code, no_amount.json()["field"]) == (422, "amount_cents")
    no_items = await refused({"purpose": "key_card", "method": "cash"})
    assert (no_items.status_code, no_items.json()["field"]) == (422, "items")
    twice = [{"number": "K-1", "amount_cents": 100}, {"number": "K-1", "amount_cents": 100}]
    assert (await refused({"purpose": "key_card", "items": twice, "method": "cash"})).json()["field"] == "items"
    mismatch = {"purpose": "key_card", "items": twice[:1], "amount_cents": 5, "method": "cash"}
    assert (await refused(mismatch)).json()["field"] == "amount_cents"
    assert (await refused({**tenancy, "purpose": "decoration"})).status_code == 422  # a permit's, from intake only
    assert (await refused(tenancy, url="/units/harbour-Z-9999/deposits")).status_code == 404
    assert (await refused(tenancy, auth(runtime, sites=("riverside",)))).status_code == 403
    assert (await refused(tenancy, auth(runtime, roles=("manager",)))).status_code == 403  # managers read

    # Nobody moved in through intake yet: the unit's payer pays it; a deposit receipt of the deposit series.
    taken = await client.post(url, json=tenancy, headers=clerk)
    assert taken.status_code == 201, taken.text
    body = taken.json()
    assert (body["purpose"], body["payer_party_id"], body["status"], body["receipt_no"], body["method"]) == (
        "tenancy",
        f"{UNIT}-owner",
        "paid",
        "HARBOUR-YJ-000001",
        "transfer",
    )
    assert (await client.get(f"/deposits/{body['id']}", headers=clerk)).json()["amount_cents"] == 200000
    listed = await client.get("/deposits", params={"site": "harbour", "purpose": "tenancy"}, headers=clerk)
    assert [d["id"] for d in listed.json()["items"]] == [body["id"]]
    owner = mint_token(runtime.settings, "o", ["owner"], ["harbour"], party_id=f"{UNIT}-owner")
    mine = await client.get("/deposits", params={"unit_id": UNIT}, headers={"Authorization": f"Bearer {owner}"})
    assert [d["purpose"] for d in mine.json()["items"]] == ["tenancy"]
    # Held money: the unit's account does not see it.
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert (account["balance_cents"], account["payments"], account["closed"]) == (0, [], False)
    [held] = events_of(await outbox_events(runtime), HELD)
    assert (held.data["purpose"], held.data["reference"], held.data["status"]) == ("tenancy", f"{UNIT}-owner", "paid")
