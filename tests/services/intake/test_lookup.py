"""intake.lookup: caller lookup by phone or unit (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from tests.services.intake.helpers import auth, deliver, envelope, move, post


async def test_caller_lookup_shows_party_unit_requests_and_payment_status(intake) -> None:
    runtime, client = intake
    status = envelope(runtime, "billing.account.status_changed.v1")  # A-0101 in arrears
    assert await deliver(runtime, status) == "handled"
    stale = envelope(
        runtime,
        "billing.account.status_changed.v1",
        {"in_arrears": False, "overdue_cents": 0, "updated_at": "2026-11-01T00:00:00+00:00"},
    )
    await deliver(runtime, stale)  # older than what intake holds: ignored
    # The latest bill: December's, whatever order the bills arrive in.
    december = envelope(runtime, "billing.bill.issued.v1")
    november = envelope(runtime, "billing.bill.issued.v1", {"bill_id": "bill-nov", "period": "2026-11"})
    assert await deliver(runtime, december) == "handled" and await deliver(runtime, november) == "handled"
    # Arrears never block a request.
    created = await post(client, runtime)
    await move(client, runtime, created["id"], "acknowledged")
    found = (await client.get("/lookup", params={"phone": "13800000001"}, headers=auth(runtime))).json()
    [match] = found["matches"]
    assert match["party"]["id"] == "harbour-A-0101-owner" and match["unit"]["id"] == "harbour-A-0101"
    assert match["payment"]["in_arrears"] is True and match["payment"]["overdue_cents"] == 26200
    assert match["payment"]["last_bill"] == {
        "bill_id": "bill-7d2e",
        "period": "2026-12",
        "amount_due_cents": 29260,
        "due_date": "2026-12-15",
        "currency": "CNY",
    }
    assert [r["id"] for r in match["open_requests"]] == [created["id"]]
    assert [r["id"] for r in match["recent_requests"]] == [created["id"]]
    by_unit = (await client.get("/lookup", params={"unit_id": "harbour-A-0101"}, headers=auth(runtime))).json()
    assert by_unit["matches"][0]["parties"][0]["name"] == "Li Wei"
    unknown = (await client.get("/lookup", params={"phone": "13999999999"}, headers=auth(runtime))).json()
    assert unknown["matches"][0]["party"] is None and unknown["matches"][0]["open_requests"] == []
    bad = await client.get("/lookup", params={"phone": "call me"}, headers=auth(runtime))
    assert bad.status_code == 422 and bad.json()["field"] == "query.phone"
