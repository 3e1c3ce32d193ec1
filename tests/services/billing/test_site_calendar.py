"""A site's days and months are its own calendar's, not UTC's (on SQLite and PostgreSQL): a payment at 04:00 on
1 December in Shanghai is December's takings, a fee falls overdue at the site's midnight, and a site onboarded in
another zone (intake.site.upserted.v1) is cut in that zone."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from billing.directory.service import Issuer, site_issuer
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import UNIT, apply_intake, auth, intake_event, payment


async def summary(client: httpx.AsyncClient, runtime: Runtime, month: str) -> dict[str, Any]:
    response = await client.get("/payments/summary", params={"site": "harbour", "month": month}, headers=auth(runtime))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_payment_at_4_am_on_the_first_in_shanghai_counts_in_the_new_month(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    # 20:00 UTC on 30 November is 04:00 on 1 December in Shanghai; 15:59 UTC is 23:59 on 30 November there.
    for reference, received_at, amount in (
        ("BANK-DEC", "2026-11-30T20:00:00Z", 12300),
        ("BANK-NOV", "2026-11-30T15:59:00Z", 4500),
    ):
        response = await client.post(
            "/payments", json=payment(reference, amount, received_at=received_at), headers=clerk
        )
        assert response.status_code == 201, response.text
    november, december = await summary(client, runtime, "2026-11"), await summary(client, runtime, "2026-12")
    assert (november["payments"], november["amount_cents"]) == (1, 4500)
    assert (december["payments"], december["amount_cents"]) == (1, 12300)

    # The account's day ends at the site's midnight too: on 30 November only the 23:59 payment is in.
    account = await client.get(f"/accounts/{UNIT}", params={"site": "harbour", "as_of": "2026-11-30"}, headers=clerk)
    assert account.json()["paid_cents"] == 4500
    account = await client.get(f"/accounts/{UNIT}", params={"site": "harbour", "as_of": "2026-12-01"}, headers=clerk)
    assert account.json()["paid_cents"] == 16800

    # Onboarded (or moved) to UTC in intake: the same instants now fall in November both.
    moved = intake_event(runtime, "intake.site.upserted.v1", "evt-site-utc", site="harbour", timezone="UTC")
    assert await apply_intake(runtime, moved) == "handled"
    november, december = await summary(client, runtime, "2026-11"), await summary(client, runtime, "2026-12")
    assert (november["payments"], november["amount_cents"]) == (2, 16800)
    assert december["payments"] == 0
    async with runtime.sessionmaker() as session:  # and its names head the printed bills and letters
        assert await site_issuer(session, "harbour") == Issuer("Riverside Tower", "Riverside Tower Service Center")


async def test_the_collection_rate_is_worked_out_on_each_site_s_own_today(seeded, issue_day) -> None:
    runtime, client = seeded
    # 09:00 UTC on 30 November is 17:00 there: the site's today is the 30th; its current month November.
    issue_day(date(2026, 11, 30))
    clerk = auth(runtime)
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-11"}, headers=clerk)
    assert issued.status_code == 201, issued.text
    rates = await client.get("/collection", params={"site": "harbour"}, headers=auth(runtime, roles=("manager",)))
    assert rates.status_code == 200, rates.text
    [site] = rates.json()["sites"]
    assert site["as_of"] == "2026-11-30"
    assert [p["period"] for p in site["periods"]] == ["2026-11", "2026-10", "2026-09"]
