"""Mail and parcels: received (residents told through notification's event), reminded while uncollected by a
durable timer, collected by a resident or their nominee with a signature (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.main import timers
from intake.parcel.models import TRANSITIONS, Action, Status
from pm_platform.envelope import utcnow
from pm_platform.errors import Conflict
from pm_platform.statemachine import advance
from pm_platform.timers import fire_due
from tests.services.intake.helpers import auth, events, fetch, owner_auth, send

PARCEL = {
    "unit_id": "harbour-A-0101",
    "party_id": "harbour-A-0101-owner",
    "carrier": "SF Express",
    "tracking_number": "SF1234567890",
    "shelf": "B-3",
}


@pytest.mark.unit
def test_the_parcel_table() -> None:
    assert advance(TRANSITIONS, Status.received, Action.collect, what="p") is Status.collected
    assert advance(TRANSITIONS, Status.received, Action.return_, what="p") is Status.returned
    with pytest.raises(Conflict) as twice:
        advance(TRANSITIONS, Status.collected, Action.collect, what="parcel 1")
    assert twice.value.extra == {"current_status": "collected", "allowed_actions": []}


async def test_a_parcel_is_announced_reminded_and_collected_by_a_nominee(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    parcel = await send(client, agent, "/parcels", PARCEL, status=201)
    assert parcel["status"] == "received" and parcel["addressee"] == "Li Wei"
    (received,) = await events(runtime, "intake.parcel.received.v1")
    assert received["data"]["parcel_id"] == parcel["id"] and received["data"]["shelf"] == "B-3"
    assert received["subject"] == parcel["id"] and received["site"] == "harbour"

    # Three days on the shelf (the default period): a reminder, and the next one a period later.
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=2)) == 0
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=3, minutes=1)) == 1
    (reminder,) = await events(runtime, "intake.parcel.uncollected.v1")
    assert reminder["data"]["reminder"] == 1 and reminder["data"]["days_waiting"] == 3
    assert (await fetch(client, agent, f"/parcels/{parcel['id']}"))["reminders"] == 1

    unnamed = {"collected_by": "Xiao Chen", "collector": "nominee", "signature": {"name": "Xiao Chen"}}
    refused = await client.post(f"/parcels/{parcel['id']}/collect", json=unnamed, headers=agent)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    collected = await send(client, agent, f"/parcels/{parcel['id']}/collect", {**unnamed, "nominated_by": "Li Wei"})
    assert collected["status"] == "collected" and collected["nominated_by"] == "Li Wei"
    assert collected["signature_name"] == "Xiao Chen" and collected["handed_over_by"] == "agent.1"
    twice = await client.post(f"/parcels/{parcel['id']}/collect", json={**unnamed, "nominated_by": "x"}, headers=agent)
    assert twice.status_code == 409 and twice.json()["current_status"] == "collected"
    assert (await fetch(client, agent, f"/parcels/{parcel['id']}"))["nominated_by"] == "Li Wei"  # nothing changed

    # Collected: no more reminders.
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=30)) == 0
    assert len(await events(runtime, "intake.parcel.uncollected.v1")) == 1
    timeline = await fetch(client, agent, f"/parcels/{parcel['id']}/timeline")
    assert [e["event_type"] for e in timeline] == [
        "intake.parcel.received.v1",
        "intake.parcel.uncollected.v1",
        "parcel.collected",
    ]


async def test_reminders_follow_the_sites_period_and_stop_after_three(intake) -> None:
    runtime, client = intake
    manager, agent = auth(runtime, roles=("manager",)), auth(runtime)
    rules = await client.put("/sites/harbour/register-settings", json={"parcel_reminder_days": 1}, headers=manager)
    assert rules.status_code == 200
    parcel = await send(client, agent, "/parcels", {**PARCEL, "party_id": None, "kind": "mail"}, status=201)
    for day in range(1, 6):
        await fire_due(runtime, timers, now=utcnow() + timedelta(days=day, minutes=1))
    reminders = await events(runtime, "intake.parcel.uncollected.v1")
    assert [r["data"]["reminder"] for r in reminders] == [1, 2, 3]
    returned = await send(client, agent, f"/parcels/{parcel['id']}/return", {"reason": "uncollected for a week"})
    assert returned["status"] == "returned"
    bad = await client.put("/sites/harbour/register-settings", json={"parcel_reminder_days": 0}, headers=manager)
    assert bad.status_code == 422


async def test_parcels_are_for_a_party_of_the_unit_and_owners_see_their_own(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    wrong = await client.post("/parcels", json={**PARCEL, "party_id": "harbour-A-0102-owner"}, headers=agent)
    assert wrong.status_code == 422 and wrong.json()["field"] == "party_id"
    mine = await send(client, agent, "/parcels", PARCEL, status=201)
    await send(client, agent, "/parcels", {**PARCEL, "unit_id": "harbour-A-0102", "party_id": None}, status=201)
    owner = owner_auth(runtime)
    assert [p["id"] for p in (await fetch(client, owner, "/parcels"))["items"]] == [mine["id"]]
    collect = {"collected_by": "Li Wei", "signature": {"name": "Li Wei"}}
    assert (await client.post(f"/parcels/{mine['id']}/collect", json=collect, headers=owner)).status_code == 403
