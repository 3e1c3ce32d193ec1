"""billing.cash: a worker takes a repair's cash on site with a receipt from the site's one series (once per phone key),
and a clerk records each worker's cash of the day only when the count balances (SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.account.models import Charge
from billing.account.service import settle
from billing.payment.models import Payment
from billing.payment.service import receipt_items
from pm_platform.auth import mint_token
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import UNIT, apply, auth, completed, events_of, payment
from tests.services.support import outbox_events

REPAIR_CENTS = 8000  # the contract example's tap cartridge


def worker(runtime: Runtime, subject: str = "eng-01", department: str = "engineering", site: str = "harbour") -> Any:
    token = mint_token(runtime.settings, subject, ["worker"], [site], department=department)
    return {"Authorization": f"Bearer {token}"}


async def repair_charge(runtime: Runtime, client: Any, event_id: str, **changes: Any) -> dict[str, Any]:
    """The repair charge a completed paid work order puts on the unit's account."""
    assert await apply(runtime, completed(runtime, event_id, **changes)) == "handled"
    charges = (
        await client.get("/charges", params={"site": "harbour", "kind": "repair"}, headers=auth(runtime))
    ).json()["items"]
    found: dict[str, Any] = next(c for c in charges if c["work_order_id"] == changes.get("work_order_id", "wo-0001"))
    return found


async def old_arrears(runtime: Runtime, amount_cents: int = 25060) -> None:
    """A management fee 40 days overdue on the unit: a payment at the counter would settle it first."""
    async with runtime.sessionmaker() as session:
        now = datetime.now(UTC)
        session.add(
            Charge(
                id="old-fee",
                site="harbour",
                unit_id=UNIT,
                kind="management_fee",
                item="物业管理费",
                amount_cents=amount_cents,
                currency="CNY",
                period="2026-09",
                due_date=(now - timedelta(days=40)).date(),
                recorded_at=now - timedelta(days=60),
            )
        )
        await session.commit()


def take(key: str, amount_cents: int = REPAIR_CENTS, **extra: Any) -> dict[str, Any]:
    return {"client_key": key, "amount_cents": amount_cents, **extra}


async def test_the_repairer_takes_the_cash_of_a_paid_repair_with_a_receipt_once_per_key(seeded) -> None:
    runtime, client = seeded
    await old_arrears(runtime)
    charge = await repair_charge(runtime, client, "evt-done-1")
    eng = worker(runtime)
    before = len(await outbox_events(runtime))

    # More than is outstanding is refused by the amount, and takes no receipt number.
    over = await client.post(f"/charges/{charge['id']}/cash-receipts", json=take("key-over-1", 8001), headers=eng)
    assert over.status_code == 422 and over.json()["field"] == "amount_cents", over.text
    assert over.json()["outstanding_cents"] == REPAIR_CENTS

    first = await client.post(f"/charges/{charge['id']}/cash-receipts", json=take("phone-key-0001"), headers=eng)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["payment"]["receipt_no"] == "HARBOUR-000001"
    assert (body["payment"]["method"], body["payment"]["recorded_by"], body["payment"]["charge_id"]) == (
        "cash",
        "eng-01",
        charge["id"],
    )
    assert (body["collected_by"], body["by_assignee"], body["work_order_id"], body["outstanding_cents"]) == (
        "eng-01",
        True,
        "wo-0001",
        0,
    )
    # The phone's retry on a bad connection: the same receipt, never the money twice.
    retry = await client.post(f"/charges/{charge['id']}/cash-receipts", json=take("phone-key-0001"), headers=eng)
    assert retry.status_code == 200 and retry.json()["payment"]["id"] == body["payment"]["id"]
    reused = await client.post(f"/charges/{charge['id']}/cash-receipts", json=take("phone-key-0001", 10), headers=eng)
    assert reused.status_code == 409 and reused.json()["field"] == "client_key"
    # Paid: nothing more to take.
    again = await client.post(f"/charges/{charge['id']}/cash-receipts", json=take("phone-key-0002", 1), headers=eng)
    assert again.status_code == 409 and again.json()["field"] == "charge_id"

    recorded = events_of((await outbox_events(runtime))[before:], "billing.payment.recorded.v1")
    assert [(e.data["receipt_no"], e.data["method"], e.data["amount_cents"]) for e in recorded] == [
        ("HARBOUR-000001", "cash", REPAIR_CENTS)
    ]
    # Taken for the repair, it paid the repair, not the older fee a counter payment would have settled first.
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))).json()
    outstanding = {c["id"]: c["outstanding_cents"] for c in account["charges"]}
    assert (outstanding[charge["id"]], outstanding["old-fee"]) == (0, 25060)
    assert account["overdue_cents"] == 25060
    printed = await client.get(f"/cash-receipts/{body['payment']['id']}/receipt", headers=eng)
    assert printed.status_code == 200, printed.text
    assert [(i["item"], i["amount_cents"]) for i in printed.json()["items"]] == [
        ("Tap cartridge replacement", REPAIR_CENTS)
    ]
    assert printed.json()["credit_cents"] == 0
    # The counter's next payment continues the same series and goes to the old fee.
    counter = await client.post("/payments", json=payment("BANK-9", 5000), headers=auth(runtime))
    assert counter.json()["receipt_no"] == "HARBOUR-000002"
    counter_receipt = (await client.get(f"/payments/{counter.json()['id']}/receipt", headers=auth(runtime))).json()
    assert [(i["charge_id"], i["amount_cents"]) for i in counter_receipt["items"]] == [("old-fee", 5000)]

    mine = (await client.get("/cash-receipts", params={"site": "harbour"}, headers=eng)).json()
    assert [r["payment"]["receipt_no"] for r in mine["items"]] == ["HARBOUR-000001"]


async def test_only_the_repairer_of_the_site_takes_it_and_any_engineer_when_billing_does_not_know_who(seeded) -> None:
    runtime, client = seeded
    known = await repair_charge(runtime, client, "evt-done-2", work_order_id="wo-known")
    unknown = await repair_charge(runtime, client, "evt-done-3", work_order_id="wo-unknown", worker=None)

    for headers, status in [
        (worker(runtime, "eng-02"), 403),  # another engineer: the repair was eng-01's
        (worker(runtime, "eng-01", site="riverside"), 403),  # not a worker of the charge's site
        (auth(runtime), 403),  # a clerk takes money at the counter, not this way
        (worker(runtime, "gr-01", department="greening"), 403),
    ]:
        refused = await client.post(
            f"/charges/{known['id']}/cash-receipts", json=take("key-refused-1"), headers=headers
        )
        assert refused.status_code == status, refused.text
    assert (
        await client.post("/charges/nope/cash-receipts", json=take("key-refused-2"), headers=worker(runtime))
    ).status_code == 404

    due = (await client.get("/cash-due", params={"site": "harbour"}, headers=worker(runtime, "eng-02"))).json()
    assert [c["work_order_id"] for c in due] == ["wo-unknown"]  # eng-01's repair is not eng-02's to take
    assert (
        await client.get("/cash-due", params={"site": "harbour"}, headers=worker(runtime, "gr-01", "greening"))
    ).json() == []
    mine = (await client.get("/cash-due", params={"site": "harbour"}, headers=worker(runtime))).json()
    assert sorted(c["work_order_id"] for c in mine) == ["wo-known", "wo-unknown"]
    assert all(c["outstanding_cents"] == REPAIR_CENTS for c in mine)

    greening = await client.post(
        f"/charges/{unknown['id']}/cash-receipts",
        json=take("key-greening"),
        headers=worker(runtime, "gr-01", "greening"),
    )
    assert greening.status_code == 403 and greening.json()["field"] == "charge_id"
    taken = await client.post(
        f"/charges/{unknown['id']}/cash-receipts", json=take("key-eng-02", 3000), headers=worker(runtime, "eng-02")
    )
    assert taken.status_code == 201, taken.text
    assert (taken.json()["collected_by"], taken.json()["by_assignee"], taken.json()["outstanding_cents"]) == (
        "eng-02",
        False,
        5000,
    )
    # A worker reads their own receipts only.
    other = await client.get(f"/cash-receipts/{taken.json()['payment']['id']}", headers=worker(runtime))
    assert other.status_code == 404
    spying = await client.get("/cash-receipts", params={"site": "harbour", "worker": "eng-02"}, headers=worker(runtime))
    assert spying.status_code == 403 and spying.json()["field"] == "worker"


async def test_the_clerk_records_a_handover_only_when_the_count_balances(seeded) -> None:
    runtime, client = seeded
    clerk, manager, eng = auth(runtime), auth(runtime, ("manager",), subject="manager.1"), worker(runtime)
    charges = [
        await repair_charge(runtime, client, f"evt-h-{n}", work_order_id=f"wo-h{n}", unit_id=unit)
        for n, unit in enumerate(["harbour-A-0101", "harbour-A-0102", "harbour-A-1201"])
    ]
    taken = []
    for n, (charge, amount) in enumerate(zip(charges, [8000, 5000, 2550], strict=True)):
        response = await client.post(
            f"/charges/{charge['id']}/cash-receipts", json=take(f"key-hand-{n}", amount), headers=eng
        )
        assert response.status_code == 201, response.text
        taken.append(response.json())
    day = taken[0]["collected_on"]
    # A receipt taken by mistake is voided the same day by the clerk: it is out of what the worker owes.
    voided = await client.post(
        f"/payments/{taken[2]['payment']['id']}/void", json={"reason": "Wrong unit"}, headers=clerk
    )
    assert voided.status_code == 200, voided.text

    pending = (await client.get("/cash-handovers/pending", params={"site": "harbour"}, headers=clerk)).json()
    assert [(p["worker"], p["day"], p["expected_cents"], len(p["receipts"])) for p in pending] == [
        ("eng-01", day, 13000, 2)
    ]
    hand = {"site": "harbour", "worker": "eng-01", "day": day}

    short = await client.post("/cash-handovers", json={**hand, "counted_cents": 12900}, headers=clerk)
    assert short.status_code == 409, short.text
    problem = short.json()
    assert (problem["field"], problem["expected_cents"], problem["difference_cents"]) == ("counted_cents", 13000, -100)
    assert "1.00 short" in problem["detail"]
    # Nothing was recorded: the cash is still pending.
    assert (await client.get("/cash-handovers", params={"site": "harbour"}, headers=clerk)).json()["total"] == 0
    assert len((await client.get("/cash-handovers/pending", params={"site": "harbour"}, headers=clerk)).json()) == 1
    # Only a clerk records one; the voided receipt cannot be named in it.
    assert (
        await client.post("/cash-handovers", json={**hand, "counted_cents": 13000}, headers=manager)
    ).status_code == 403
    named_void = await client.post(
        "/cash-handovers",
        json={**hand, "counted_cents": 2550, "payment_ids": [taken[2]["payment"]["id"]]},
        headers=clerk,
    )
    assert named_void.status_code == 409 and named_void.json()["field"] == "payment_ids"

    done = await client.post(
        "/cash-handovers", json={**hand, "counted_cents": 13000, "note": "两张收据"}, headers=clerk
    )
    assert done.status_code == 201, done.text
    handover = done.json()
    assert (handover["receipts"], handover["amount_cents"], handover["received_by"]) == (2, 13000, "clerk.1")
    assert sorted(handover["payment_ids"]) == sorted(t["payment"]["id"] for t in taken[:2])
    assert (await client.get(f"/cash-handovers/{handover['id']}", headers=manager)).json()["amount_cents"] == 13000
    assert (await client.get("/cash-handovers/pending", params={"site": "harbour"}, headers=clerk)).json() == []

    # Handed over once only; and its receipts are no longer voided (money goes back by a refund now).
    twice = await client.post("/cash-handovers", json={**hand, "counted_cents": 13000}, headers=clerk)
    assert twice.status_code == 409 and twice.json()["field"] == "worker"
    named_again = await client.post(
        "/cash-handovers",
        json={**hand, "counted_cents": 8000, "payment_ids": [taken[0]["payment"]["id"]]},
        headers=clerk,
    )
    assert named_again.status_code == 409 and named_again.json()["field"] == "payment_ids"
    late_void = await client.post(
        f"/payments/{taken[0]['payment']['id']}/void", json={"reason": "Too late"}, headers=clerk
    )
    assert late_void.status_code == 409 and "handed over" in late_void.json()["detail"]
    handed = (await client.get("/cash-receipts", params={"site": "harbour", "pending": "false"}, headers=clerk)).json()
    assert {r["handover_id"] for r in handed["items"]} == {handover["id"]}

    # Month-end: of the cash, what workers took on site and what the clerks received from them.
    month = day[:7]
    report = (await client.get("/sites/harbour/month-report", params={"month": month}, headers=manager)).json()
    assert (report["cash_on_site_cents"], report["cash_handed_over_cents"]) == (13000, 13000)
    assert {t["method"]: t["amount_cents"] for t in report["takings"]}["cash"] == 13000
    exported = await client.get("/sites/harbour/month-report/export", params={"month": month}, headers=manager)
    assert "cash_handed_over_cents,13000" in exported.text


NOW = datetime(2026, 11, 20, 2, tzinfo=UTC)


def charge_row(charge_id: str, amount: int, due: date) -> Charge:
    return Charge(
        id=charge_id,
        site="s",
        unit_id="u",
        kind="repair",
        item=charge_id,
        amount_cents=amount,
        currency="CNY",
        period=None,
        due_date=due,
        recorded_at=NOW - timedelta(days=30),
        waived_at=None,
    )


def payment_row(payment_id: str, amount: int, seq: int, charge_id: str | None = None) -> Payment:
    return Payment(
        id=payment_id,
        site="s",
        unit_id="u",
        amount_cents=amount,
        currency="CNY",
        method="cash",
        reference=payment_id,
        receipt_seq=seq,
        receipt_no=str(seq),
        received_at=NOW + timedelta(minutes=seq),
        recorded_by="x",
        recorded_at=NOW,
        charge_id=charge_id,
        voided_at=None,
    )


@pytest.mark.unit
def test_unit_a_payment_for_a_charge_settles_it_before_older_ones_and_its_receipt_says_so() -> None:
    old, repair = charge_row("old", 10000, date(2026, 10, 15)), charge_row("repair", 8000, date(2026, 12, 5))
    for_repair, counter = payment_row("p1", 9000, 1, "repair"), payment_row("p2", 3000, 2)
    ledger = settle(date(2026, 11, 20), [old, repair], [for_repair, counter], "Asia/Shanghai")
    # 8000 of p1 pays the repair; its 1000 over and p2's 3000 go to the oldest due.
    assert ledger.outstanding == {"old": 6000, "repair": 0}
    assert ledger.overdue_cents == 6000
    first = receipt_items(for_repair, [counter], [old, repair])
    assert [(i.charge_id, i.amount_cents) for i in first] == [("old", 1000), ("repair", 8000)]
    second = receipt_items(counter, [for_repair], [old, repair])
    assert [(i.charge_id, i.amount_cents) for i in second] == [("old", 3000)]


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 50_000), st.integers(-60, 60)), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(1, 60_000), st.one_of(st.none(), st.integers(0, 5))), max_size=6),
)
def test_unit_the_receipts_of_a_units_payments_add_up_to_what_the_ledger_settled(
    charged: list[tuple[int, int]], paid: list[tuple[int, int | None]]
) -> None:
    """Payments for one charge or for the account, in any mix: the ledger settles exactly min(paid, charged), and the
    parts the receipts show of each charge add up to what the ledger says is paid of it."""
    charges = [
        charge_row(f"c{n}", amount, date(2026, 11, 20) + timedelta(days=due)) for n, (amount, due) in enumerate(charged)
    ]
    payments = [
        payment_row(f"p{n}", amount, n + 1, f"c{target % len(charges)}" if target is not None else None)
        for n, (amount, target) in enumerate(paid)
    ]
    ledger = settle(date(2026, 11, 20), charges, payments, "Asia/Shanghai")
    total_charged, total_paid = sum(a for a, _ in charged), sum(a for a, _ in paid)
    assert sum(ledger.outstanding.values()) == max(total_charged - total_paid, 0)
    on_receipts: dict[str, int] = {}
    for p in payments:
        items = receipt_items(p, [o for o in payments if o is not p], charges)
        assert sum(i.amount_cents for i in items) <= p.amount_cents
        for item in items:
            on_receipts[item.charge_id] = on_receipts.get(item.charge_id, 0) + item.amount_cents
    for c in charges:
        assert on_receipts.get(c.id, 0) == c.amount_cents - ledger.outstanding[c.id]
