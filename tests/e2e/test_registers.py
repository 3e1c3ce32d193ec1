"""The front desk's registers across services, as real processes on a real nats-server: a parcel received at
intake and a document made ready reach the unit's resident through notification, in their language; the gate
uses a release pass once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack, eventually, items

pytestmark = pytest.mark.timeout(180)
UNIT, PARTY = "harbour-B-0301", "harbour-B-0301-owner"  # Emily Chen, who reads English


def test_a_parcel_and_a_document_reach_the_resident_and_a_release_pass_is_used_once(stack: Stack) -> None:
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    guard = stack.token("guard.harbour", ["security"], ["harbour"])
    parcel = httpx.post(
        stack.url("intake", "/parcels"),
        json={"unit_id": UNIT, "carrier": "JD Logistics", "shelf": "C-1"},
        headers=agent,
    )
    assert parcel.status_code == 201, parcel.text
    task = httpx.post(
        stack.url("intake", "/documents"),
        json={"unit_id": UNIT, "party_id": PARTY, "kind": "card", "title": "parking card"},
        headers=agent,
    )
    assert task.status_code == 201, task.text
    ready = httpx.post(stack.url("intake", f"/documents/{task.json()['id']}/ready"), headers=agent)
    assert ready.status_code == 200, ready.text

    def messages() -> list[dict[str, Any]]:
        listing = httpx.get(
            stack.url("notification", "/messages"), params={"site": "harbour", "party_id": PARTY}, headers=agent
        )
        found = [m for m in items(listing.json()) if m["template"] in ("parcel.received", "document.ready")]
        return found if len(found) >= 2 else []

    bodies = {m["template"]: m["body"] for m in eventually(messages)}
    assert bodies["parcel.received"].startswith("A parcel (JD Logistics) is waiting for you")
    assert "(shelf C-1)" in bodies["parcel.received"]
    assert (
        bodies["document.ready"] == "Your parking card is ready: please collect it at the service center's front desk"
    )

    created = httpx.post(
        stack.url("intake", "/release-passes"),
        json={"unit_id": UNIT, "items": [{"description": "bicycle"}]},
        headers=agent,
    ).json()
    number = created["number"]
    owner = stack.token(PARTY, ["owner"], ["harbour"], party=PARTY)
    assert httpx.post(stack.url("intake", f"/release-passes/{number}/authorise"), headers=owner).status_code == 200
    assert httpx.post(stack.url("intake", f"/release-passes/{number}/issue"), headers=agent).status_code == 200
    assert httpx.post(stack.url("intake", f"/release-passes/{number}/use"), headers=guard).status_code == 200
    assert httpx.post(stack.url("intake", f"/release-passes/{number}/use"), headers=guard).status_code == 409
