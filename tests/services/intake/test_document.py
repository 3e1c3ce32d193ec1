"""Certificates and document pickup: a task from requested to collected (or cancelled), the owner told when it is
ready through intake.document.ready.v1 (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from intake.document.models import TRANSITIONS, Action, Status
from pm_platform.errors import Conflict
from pm_platform.statemachine import advance
from tests.services.intake.helpers import auth, events, fetch, owner_auth, send

TASK = {
    "unit_id": "harbour-A-0101",
    "party_id": "harbour-A-0101-owner",
    "kind": "certificate",
    "title": "Property ownership certificate",
}


@pytest.mark.unit
def test_the_document_table() -> None:
    path = [Action.start, Action.ready, Action.collect]
    status = Status.requested
    for action in path:
        status = advance(TRANSITIONS, status, action, what="d")
    assert status is Status.collected
    assert advance(TRANSITIONS, Status.requested, Action.ready, what="d") is Status.ready  # ready off the shelf
    with pytest.raises(Conflict) as early:
        advance(TRANSITIONS, Status.in_progress, Action.collect, what="document task 1")
    assert early.value.extra == {"current_status": "in_progress", "allowed_actions": ["cancel", "ready"]}
    assert TRANSITIONS[Status.collected] == {} and TRANSITIONS[Status.cancelled] == {}


async def test_a_document_goes_from_requested_to_collected_and_the_owner_is_told_when_ready(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    task = await send(client, agent, "/documents", TASK, status=201)
    assert task["status"] == "requested" and task["allowed_actions"] == ["cancel", "ready", "start"]
    collect = {"collected_by": "Li Wei", "signature": {"name": "Li Wei"}}
    early = await client.post(f"/documents/{task['id']}/collect", json=collect, headers=agent)
    assert early.status_code == 409 and early.json()["current_status"] == "requested"
    assert (await send(client, agent, f"/documents/{task['id']}/start"))["status"] == "in_progress"
    assert await events(runtime, "intake.document.ready.v1") == []
    ready = await send(client, agent, f"/documents/{task['id']}/ready", {"pickup_location": "Front desk, Block A"})
    assert ready["status"] == "ready" and ready["ready_at"]
    (event,) = await events(runtime, "intake.document.ready.v1")
    assert event["data"]["task_id"] == task["id"] and event["data"]["party_id"] == "harbour-A-0101-owner"
    assert event["data"]["pickup_location"] == "Front desk, Block A" and event["data"]["kind"] == "certificate"
    again = await client.post(f"/documents/{task['id']}/ready", headers=agent)
    assert again.status_code == 409 and len(await events(runtime, "intake.document.ready.v1")) == 1

    done = await send(client, agent, f"/documents/{task['id']}/collect", collect)
    assert done["status"] == "collected" and done["collected_by"] == "Li Wei"
    cancel = await client.post(f"/documents/{task['id']}/cancel", json={"reason": "x"}, headers=agent)
    assert cancel.status_code == 409 and cancel.json()["allowed_actions"] == []
    timeline = await fetch(client, agent, f"/documents/{task['id']}/timeline")
    assert [e["event_type"] for e in timeline] == [
        "document.requested",
        "document.in_progress",
        "intake.document.ready.v1",
        "document.collected",
    ]


async def test_a_document_task_is_cancelled_with_a_reason_and_owners_read_their_own(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    task = await send(client, agent, "/documents", TASK, status=201)
    other = await send(client, agent, "/documents", {**TASK, "unit_id": "harbour-A-0102", "party_id": None}, status=201)
    no_reason = await client.post(f"/documents/{task['id']}/cancel", json={}, headers=agent)
    assert no_reason.status_code == 422
    cancelled = await send(client, agent, f"/documents/{task['id']}/cancel", {"reason": "owner withdrew it"})
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "owner withdrew it"
    owner = owner_auth(runtime)
    assert [d["id"] for d in (await fetch(client, owner, "/documents"))["items"]] == [task["id"]]
    assert (await client.get(f"/documents/{other['id']}", headers=owner)).status_code == 403
    assert (await client.post(f"/documents/{other['id']}/start", headers=owner)).status_code == 403
    wrong = await client.post("/documents", json={**TASK, "kind": "passport"}, headers=agent)
    assert wrong.status_code == 422
