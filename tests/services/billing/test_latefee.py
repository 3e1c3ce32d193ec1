"""billing.latefee: late fees only as the site's contract says, assessed by the billing run onto the next bill, the
same on any replay, and waived only with a manager's approval (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.latefee.models import LateFeePolicyUpdate
from billing.latefee.service import late_fee_owed
from pm_platform.runtime import Runtime
from tests.services.billing.helpers import HARBOUR_FEES, UNIT, auth, events_of, payment
from tests.services.support import outbox_events

POLICY = "/sites/harbour/late-fee-policy"
FEE = HARBOUR_FEES[UNIT]


async def issue(client: httpx.AsyncClient, runtime: Runtime, period: str) -> None:
    response = await client.post("/billing-periods", json={"site": "harbour", "period": period}, headers=auth(runtime))
    assert response.status_code == 201, response.text


async def late_lines(runtime: Runtime, period: str) -> dict[str, list[dict[str, Any]]]:
    """Per unit, the late-fee lines of its bill for the period."""
    return {
        e.data["unit_id"]: [line for line in e.data["lines"] if line["fee_item"] == "late_fee"]
        for e in events_of(await outbox_events(runtime), "billing.bill.issued.v1")
        if e.data["period"] == period
    }


async def test_the_run_assesses_late_fees_by_the_contract_and_a_manager_waives_one(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    assert (await client.get(POLICY, headers=clerk)).json()["mode"] == "none"  # no contract terms: no late fee
    issue_day(date(2026, 9, 28))
    await issue(client, runtime, "2026-10")  # due 15 October
    paid = payment("BANK-B0301", HARBOUR_FEES["harbour-B-0301"], "harbour-B-0301", received_at="2026-10-10T02:00:00Z")
    assert (await client.post("/payments", json=paid, headers=clerk)).status_code == 201

    terms = {"mode": "daily", "grace_days": 15, "daily_rate": "0.0005", "cap_pct": 10}
    assert (await client.put(POLICY, json=terms, headers=clerk)).status_code == 403  # the contract is the manager's
    saved = await client.put(POLICY, json=terms, headers=manager)
    assert saved.status_code == 200 and saved.json()["daily_rate"] == "0.0005"
    bad = await client.put(POLICY, json=terms | {"daily_rate": "0.5"}, headers=manager)
    assert bad.status_code == 422 and bad.json()["field"] == "daily_rate"

    # 28 November: October's 250.60 is 44 days overdue, 29 past the grace: 250.60 x 0.0005 x 29 = 3.6337 -> 3.63.
    issue_day(date(2026, 11, 28))
    await issue(client, runtime, "2026-11")
    november = await late_lines(runtime, "2026-11")
    assert [line["amount_cents"] for line in november[UNIT]] == [363]
    assert november["harbour-B-0301"] == []  # paid on time
    [late_fee] = (await client.get("/charges", params={"unit_id": UNIT, "kind": "late_fee"}, headers=clerk)).json()[
        "items"
    ]
    october = (await client.get("/charges", params={"unit_id": UNIT, "period": "2026-10"}, headers=clerk)).json()
    assert late_fee["late_fee_of"] == october["items"][0]["id"] and late_fee["amount_cents"] == 363

    # The clerk asks for it to be waived; the manager (not the clerk) approves; it stops counting.
    not_a_late_fee = await client.post(
        f"/charges/{october['items'][0]['id']}/waivers", json={"reason": "goodwill"}, headers=clerk
    )
    assert not_a_late_fee.status_code == 409 and not_a_late_fee.json()["field"] == "charge_id"
    asked = await client.post(
        f"/charges/{late_fee['id']}/waivers", json={"reason": "Owner was in hospital in October"}, headers=clerk
    )
    assert asked.status_code == 201, asked.text
    waiver = asked.json()
    again = await client.post(f"/charges/{late_fee['id']}/waivers", json={"reason": "twice"}, headers=clerk)
    assert again.status_code == 409
    queue = await client.get("/late-fee-waivers", params={"site": "harbour", "status": "requested"}, headers=manager)
    assert [w["id"] for w in queue.json()["items"]] == [waiver["id"]]
    before = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    approved = await client.post(f"/late-fee-waivers/{waiver['id']}/approve", json={}, headers=manager)
    assert approved.status_code == 200 and approved.json()["decided_by"] == "manager.harbour"
    after = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert after["balance_cents"] == before["balance_cents"] - 363
    decided = await client.post(f"/late-fee-waivers/{waiver['id']}/reject", json={"note": "it stands"}, headers=manager)
    assert decided.status_code == 409  # decided already

    # 28 December: October's fee owes 250.60 x 0.0005 x 59 = 7.39 in all; 3.63 was assessed (and waived, which does
    # not bring it back): 3.76 more. November's fee (due 13 December) is within its grace.
    issue_day(date(2026, 12, 28))
    await issue(client, runtime, "2026-12")
    december = await late_lines(runtime, "2026-12")
    assert [line["amount_cents"] for line in december[UNIT]] == [739 - 363]


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------

DAILY = LateFeePolicyUpdate(mode="daily", grace_days=10, daily_rate=Decimal("0.0005"), cap_pct=20)
DUE = date(2026, 10, 15)


@pytest.mark.unit
def test_unit_a_late_fee_counts_past_the_grace_and_stops_at_the_cap() -> None:
    assert late_fee_owed(DAILY, 10000, 10000, DUE, DUE + timedelta(days=10)) == 0  # within the grace
    assert late_fee_owed(DAILY, 10000, 10000, DUE, DUE + timedelta(days=11)) == 5  # 100.00 x 0.0005 x 1
    assert late_fee_owed(DAILY, 10000, 4000, DUE, DUE + timedelta(days=30)) == 40  # on the unpaid part only
    assert late_fee_owed(DAILY, 10000, 10000, DUE, DUE + timedelta(days=5000)) == 2000  # 20 % of the charge
    assert late_fee_owed(DAILY, 10000, 0, DUE, DUE + timedelta(days=300)) == 0
    fixed = LateFeePolicyUpdate(mode="fixed", grace_days=0, fixed_cents=5000, cap_pct=30)
    assert late_fee_owed(fixed, 10000, 1, DUE, DUE + timedelta(days=1)) == 3000  # the cap binds a fixed fee too
    assert late_fee_owed(LateFeePolicyUpdate(mode="none"), 10000, 10000, DUE, DUE + timedelta(days=400)) == 0


@pytest.mark.unit
@given(
    charge=st.integers(min_value=1, max_value=10**8),
    share=st.floats(min_value=0, max_value=1),
    days=st.integers(min_value=0, max_value=3000),
    rate=st.decimals(min_value=0, max_value=Decimal("0.01"), places=6),
    cap=st.integers(min_value=0, max_value=100),
)
def test_unit_a_late_fee_is_deterministic_monotone_and_capped(
    charge: int, share: float, days: int, rate: Decimal, cap: int
) -> None:
    policy = LateFeePolicyUpdate(mode="daily", grace_days=7, daily_rate=rate, cap_pct=cap)
    unpaid = int(charge * share)
    today = DUE + timedelta(days=days)
    owed = late_fee_owed(policy, charge, unpaid, DUE, today)
    assert owed == late_fee_owed(policy, charge, unpaid, DUE, today)  # a replay gives the same fee
    assert 0 <= owed <= charge * cap / 100 + 1
    assert late_fee_owed(policy, charge, unpaid, DUE, today + timedelta(days=1)) >= owed
