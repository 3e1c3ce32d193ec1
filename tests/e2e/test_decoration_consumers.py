"""A decoration permit's steps reach billing, dispatch and notification as real processes on a real nats-server.

Intake's side (the permit itself) is another package: here its events are published on NATS as intake's outbox
would publish them (the intake NATS user, the contract examples). Billing asks for the deposit and charges the
fee, notification tells the neighbours, dispatch opens the inspection and publishes its result, the clerk
receives the deposit, and the settlement returns it less the fine, which notification tells the payer.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import nats
import pytest

from pm_platform import natsauth
from pm_platform.settings import REPO_ROOT
from tests.e2e.conftest import Stack, eventually, items

pytestmark = pytest.mark.timeout(240)

UNIT = "harbour-A-1201"
NEIGHBOUR = "harbour-A-0101"


def intake_event(event_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.json").read_text()), **changes}
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "pm/intake",
        "type": event_type,
        "subject": data["permit_id"],
        "time": "2026-12-02T03:10:01+00:00",
        "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{event_type}",
        "site": "harbour",
        "correlationid": data["permit_id"],
        "data": data,
    }


async def publish(stack: Stack, *events: dict[str, Any]) -> None:
    nc = await nats.connect(
        stack.nats_url,
        user="intake",
        password=stack.nats_passwords[natsauth.password_variable("intake")],
        inbox_prefix=natsauth.inbox_prefix("intake"),
    )
    try:
        js = nc.jetstream()
        for event in events:
            subject = f"{event['type']}.harbour"
            await js.publish(subject, json.dumps(event).encode(), headers={"Nats-Msg-Id": event["id"]})
    finally:
        await nc.close()


def test_a_permit_from_approval_to_deposit_refund_across_the_consumers(stack: Stack) -> None:
    permit = f"dp-{uuid.uuid4().hex[:8]}"
    inspection = f"di-{uuid.uuid4().hex[:8]}"
    clerk = stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])
    worker = stack.token("eng.harbour", ["worker"], ["harbour"], department="engineering")
    manager = stack.token("manager.harbour", ["manager"], ["harbour"])
    common = {"permit_id": permit, "unit_id": UNIT}
    approved = intake_event(
        "intake.decoration.approved.v1",
        {**common, "neighbour_unit_ids": [NEIGHBOUR], "applicant_party_id": f"{UNIT}-owner"},
    )
    asked = intake_event("intake.decoration.inspection_requested.v1", {**common, "inspection_id": inspection})
    asyncio.run(publish(stack, approved, asked))

    # Billing: the deposit asked for, the fee charged (the deposit is not in the balance).
    def deposit() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("billing", "/deposits"), params={"site": "harbour", "unit_id": UNIT}, headers=clerk
        )
        return next((d for d in items(listing.json()) if d["reference"] == permit), None)

    held = eventually(deposit)
    assert (held["status"], held["amount_cents"]) == ("requested", 200000)

    # Notification: the neighbour hears of the works.
    def neighbour_told() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("notification", "/messages"), params={"party_id": f"{NEIGHBOUR}-owner"}, headers=manager
        )
        return next((m for m in items(listing.json()) if m["template"] == "decoration.neighbours"), None)

    assert "A-1201" in eventually(neighbour_told)["body"]

    # Dispatch: the inspection is engineering's work; the engineer answers the checklist.
    def order() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("dispatch", "/work-orders"), params={"site": "harbour", "request_id": inspection}, headers=worker
        )
        return next(iter(items(listing.json())), None)

    work = eventually(order)
    assert work["category"] == "decoration_inspection"
    for step in ("claim", "arrive"):
        response = httpx.post(stack.url("dispatch", f"/work-orders/{work['id']}/{step}"), headers=worker)
        assert response.status_code == 200, f"{step}: {response.text}"
    answers = {"items": [{"code": "load_bearing_walls", "ok": True}, {"code": "wet_areas", "ok": True}]}
    response = httpx.post(
        stack.url("dispatch", f"/work-orders/{work['id']}/inspection-result"), json=answers, headers=worker
    )
    assert response.status_code == 200, response.text

    # The clerk receives the deposit; intake settles the permit with a fine; billing returns the rest.
    received = httpx.post(
        stack.url("billing", f"/deposits/{held['id']}/receive"), json={"method": "card"}, headers=clerk
    )
    assert received.status_code == 200 and received.json()["status"] == "paid", received.text
    asyncio.run(publish(stack, intake_event("intake.decoration.settled.v1", common)))

    def returned() -> dict[str, Any] | None:
        body = httpx.get(stack.url("billing", f"/deposits/{held['id']}"), headers=clerk).json()
        return body if body["status"] == "returned" else None

    assert eventually(returned)["returned_cents"] == 180000

    def payer_told() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("notification", "/messages"), params={"party_id": f"{UNIT}-owner"}, headers=manager
        )
        return next((m for m in items(listing.json()) if m["template"] == "deposit.returned"), None)

    assert "1800.00" in eventually(payer_told)["body"]
