"""billing.payment: payments idempotent by reference, with gapless receipts (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from billing.payment.service import receipt_no
from pm_platform.envelope import utcnow
from pm_platform.sitetime import local_date, month_of_instant
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, auth, events_of, payment
from tests.services.support import outbox_events


async def test_payments_are_idempotent_by_reference_with_gapless_receipts(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    before = len(await outbox_events(runtime))

    first = await client.post("/payments", json=payment("BANK-0001", 20000), headers=clerk)
    assert first.status_code == 201, first.text
    assert (first.json()["receipt_no"], first.json()["recorded_by"]) == ("HARBOUR-000001", "clerk.1")
    repeat = await client.post("/payments", json=payment("BANK-0001", 20000), headers=clerk)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    reused = await client.post("/payments", json=payment("BANK-0001", 999), headers=clerk)
    assert reused.status_code == 409 and reused.json()["field"] == "reference"

    # Rejected payments take no receipt number.
    for body, field in [
        (payment("X-1", unit_id="harbour-Z-9999"), "unit_id"),
        (payment("X-2", currency="USD"), "currency"),
        (payment("X-3", 0), "amount_cents"),
        (payment("X-4", method="cheque"), "method"),
        (payment("X-5", received_at="2099-01-01T00:00:00Z"), "received_at"),
    ]:
        rejected = await client.post("/payments", json=body, headers=clerk)
        assert rejected.status_code in (404, 422) and rejected.json()["field"] == field, rejected.text
    second = await client.post("/payments", json=payment("CASH-7", 5060, method="cash"), headers=clerk)
    assert second.json()["receipt_no"] == "HARBOUR-000002"

    statuses = events_of((await outbox_events(runtime))[before:], "billing.account.status_changed.v1")
    assert [(e.data["balance_cents"], e.data["reason"]) for e in statuses] == [(5060, "payment"), (0, "payment")]

    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert (account["balance_cents"], account["paid_cents"], account["charged_cents"]) == (0, 25060, 25060)
    assert [p["receipt_no"] for p in account["payments"]] == ["HARBOUR-000001", "HARBOUR-000002"]

    # A wrong payment is voided with a reason, never edited; its receipt number stays taken.
    voided = await client.post(f"/payments/{second.json()['id']}/void", json={"reason": "Counted twice"}, headers=clerk)
    assert voided.status_code == 200 and voided.json()["void_reason"] == "Counted twice"
    twice = await client.post(f"/payments/{second.json()['id']}/void", json={"reason": "again"}, headers=clerk)
    assert twice.status_code == 409
    no_reason = await client.post(f"/payments/{first.json()['id']}/void", json={}, headers=clerk)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert account["balance_cents"] == 5060 and [p["voided"] for p in account["payments"]] == [False, True]
    listing = (await client.get("/payments", params={"site": "harbour"}, headers=clerk)).json()
    assert [p["receipt_no"] for p in listing["items"]] == ["HARBOUR-000002", "HARBOUR-000001"]
    month = month_of_instant(utcnow(), "Asia/Shanghai")  # the site's month, not UTC's
    summary = (
        await client.get(
            "/payments/summary",
            params={"site": "harbour", "month": month},
            headers=auth(runtime, roles=("supervisor",)),
        )
    ).json()
    assert (summary["payments"], summary["amount_cents"], summary["voided"], summary["voided_cents"]) == (
        1,
        20000,
        1,
        5060,
    )
    assert summary["by_method"] == [{"method": "transfer", "payments": 1, "amount_cents": 20000}]
    assert (summary["first_receipt"], summary["last_receipt"]) == ("HARBOUR-000001", "HARBOUR-000002")
    assert (await client.get("/payments/summary", params={"site": "harbour", "month": "2026-1"}, headers=clerk)).json()[
        "field"
    ] == "query.month"

    assert (
        await client.post("/payments", json=payment("A-1"), headers=auth(runtime, roles=("agent",)))
    ).status_code == 403
    assert (
        await client.post("/payments", json=payment("A-2"), headers=auth(runtime, sites=("riverside",)))
    ).status_code == 403
    riverside_clerk = auth(runtime, sites=("riverside",))
    assert (await client.get(f"/payments/{first.json()['id']}", headers=riverside_clerk)).status_code == 403
    assert (
        await client.post(f"/payments/{first.json()['id']}/void", json={"reason": "not mine"}, headers=riverside_clerk)
    ).status_code == 403
    assert (await client.get("/payments", params={"site": "riverside"}, headers=clerk)).status_code == 403


async def test_concurrent_payments_get_consecutive_receipts_and_one_status_each(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    units = list(HARBOUR_FEES)
    bodies = [payment(f"C-{n}", 1000 + n, unit_id=units[n % 2]) for n in range(8)]
    responses = await asyncio.gather(*(client.post("/payments", json=b, headers=clerk) for b in bodies))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert sorted(r.json()["receipt_no"] for r in responses) == [f"HARBOUR-{n:06d}" for n in range(1, 9)]
    # Each unit's last status published counts every payment of it.
    last: dict[str, int] = {}
    for event in events_of(await outbox_events(runtime), "billing.account.status_changed.v1"):
        last[event.data["unit_id"]] = event.data["balance_cents"]
    assert last == {unit: -sum(b["amount_cents"] for b in bodies if b["unit_id"] == unit) for unit in units[:2]}


async def test_a_receipt_lists_the_charges_its_payment_settled_oldest_due_first(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    for period in ("2026-09", "2026-10"):
        issued = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=clerk)
        assert issued.status_code == 201, issued.text
    fee = HARBOUR_FEES[UNIT]
    first = (await client.post("/payments", json=payment("R-1", 10000), headers=clerk)).json()
    second = (await client.post("/payments", json=payment("R-2", 2 * fee - 10000 + 500), headers=clerk)).json()

    found = await client.get(f"/payments/{second['id']}/receipt", headers=clerk)
    assert found.status_code == 200, found.text
    receipt = found.json()
    assert receipt["payment"]["receipt_no"] == second["receipt_no"]
    assert (receipt["unit"]["unit_id"], receipt["payer"]["name"]) == (UNIT, "Li Wei")
    # The first payment took 100.00 of September's fee: this one settles the rest of it, then October's.
    assert [(i["period"], i["kind"], i["amount_cents"]) for i in receipt["items"]] == [
        ("2026-09", "management_fee", fee - 10000),
        ("2026-10", "management_fee", fee),
    ]
    assert receipt["credit_cents"] == 500
    first_receipt = (await client.get(f"/payments/{first['id']}/receipt", headers=clerk)).json()
    assert [(i["period"], i["amount_cents"]) for i in first_receipt["items"]] == [("2026-09", 10000)]

    # Voiding the first moves what the second settled forward; the void one still shows what it had settled.
    await client.post(f"/payments/{first['id']}/void", json={"reason": "Wrong unit"}, headers=clerk)
    receipt = (await client.get(f"/payments/{second['id']}/receipt", headers=clerk)).json()
    assert [(i["period"], i["amount_cents"]) for i in receipt["items"]] == [("2026-09", fee), ("2026-10", fee - 9500)]
    assert receipt["credit_cents"] == 0
    first_receipt = (await client.get(f"/payments/{first['id']}/receipt", headers=clerk)).json()
    assert [(i["period"], i["amount_cents"]) for i in first_receipt["items"]] == [("2026-09", 10000)]
    riverside_clerk = auth(runtime, sites=("riverside",))
    assert (await client.get(f"/payments/{second['id']}/receipt", headers=riverside_clerk)).status_code == 403


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_a_receipt_number_is_the_site_and_a_zero_padded_sequence() -> None:
    assert receipt_no("harbour", 7) == "HARBOUR-000007"
    assert receipt_no("lakeside", 1234567) == "LAKESIDE-1234567"


async def test_a_payment_is_voided_only_on_the_site_s_day_it_was_taken(seeded, issue_day) -> None:
    """Later the day's takings are counted and handed over: money goes back by a refund a manager approves."""
    runtime, client = seeded
    clerk = auth(runtime)
    paid = (await client.post("/payments", json=payment("CASH-DAY", 5000, method="cash"), headers=clerk)).json()
    issue_day(local_date(utcnow(), "Asia/Shanghai") + timedelta(days=1))  # the next day at the site
    late = await client.post(f"/payments/{paid['id']}/void", json={"reason": "Wrong unit"}, headers=clerk)
    assert late.status_code == 409 and late.json()["field"] == "payment_id", late.text
    assert "refund" in late.json()["detail"]
    asked = await client.post(
        f"/payments/{paid['id']}/refunds", json={"amount_cents": 5000, "reason": "Wrong unit"}, headers=clerk
    )
    assert asked.status_code == 201, asked.text
