"""Billing: the collection rate counts the paid in-unit repairs billed in a month, not only the fees (SQLite and
PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import date

from tests.services import test_billing as base
from tests.services.test_billing import add_fee, apply, auth, completed, payment

billing, seeded, issue_day = base.billing, base.seeded, base.issue_day  # the fixtures of the main billing tests


async def test_collection_counts_repair_charges_in_the_month_they_were_billed(seeded, issue_day) -> None:
    runtime, client = seeded
    await add_fee(runtime, "harbour-A-0101", "2026-11", 25060)
    issue_day(date(2026, 11, 20))  # the repair is completed and charged on 20 November
    assert await apply(runtime, completed(runtime, "evt-repair")) == "handled"  # 80.00 for a tap cartridge
    clerk = auth(runtime)
    # Pays the fee (due first); the repair charge is still open.
    assert (
        await client.post("/payments", json=payment("T-1", 25060, received_at="2026-11-21T02:00:00Z"), headers=clerk)
    ).status_code == 201
    response = await client.get(
        "/collection", params={"site": "harbour", "as_of": "2026-11-23", "period": "2026-11"}, headers=clerk
    )
    [november] = response.json()["sites"][0]["periods"]
    assert (november["billed_cents"], november["collected_cents"], november["outstanding_cents"]) == (
        33060,
        25060,
        8000,
    )
    assert november["rate_percent"] == 75.8 and november["meets_target"] is False
    # Paid in full: the month is fully collected, repairs included.
    assert (
        await client.post("/payments", json=payment("T-2", 8000, received_at="2026-11-22T02:00:00Z"), headers=clerk)
    ).status_code == 201
    response = await client.get(
        "/collection", params={"site": "harbour", "as_of": "2026-11-23", "period": "2026-11"}, headers=clerk
    )
    [november] = response.json()["sites"][0]["periods"]
    assert (november["billed_cents"], november["collected_cents"], november["rate_percent"]) == (33060, 33060, 100.0)
