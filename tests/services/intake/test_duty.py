"""intake.duty: the duty log and shift handovers (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from tests.services.intake.helpers import auth, move, post


async def test_shift_handover_lists_the_shift_contacts_and_open_items(intake) -> None:
    runtime, client = intake
    open_one = await post(client, runtime)
    done = await post(client, runtime, category="electrical")
    await move(client, runtime, done["id"], "cancelled", reason="owner fixed it")
    entry = await client.post(
        "/duty-log",
        headers=auth(runtime),
        json={
            "site": "harbour",
            "kind": "call",
            "note": "Owner of B-0301 asked about parking",
            "unit_id": "harbour-B-0301",
        },
    )
    assert entry.status_code == 201
    bad = await client.post(
        "/handovers",
        headers=auth(runtime),
        json={"site": "harbour", "to_agent": "agent.2", "items": [{"request_id": done["id"], "next_step": "x"}]},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "items.0.request_id"
    response = await client.post(
        "/handovers",
        headers=auth(runtime),
        json={
            "site": "harbour",
            "to_agent": "agent.2",
            "notes": "Quiet shift",
            "items": [{"request_id": open_one["id"], "next_step": "Call the owner at 9 to book the engineer"}],
        },
    )
    assert response.status_code == 201, response.text
    handover = response.json()
    [item] = handover["items"]
    assert item["request_id"] == open_one["id"] and item["owner"] == "agent.1"
    assert item["next_step"] == "Call the owner at 9 to book the engineer"
    assert item["deadline"] == open_one["ack_due_at"].replace("Z", "+00:00")
    assert [c["kind"] for c in handover["contacts"]] == ["phone", "phone", "call"]
    listed = (await client.get("/handovers", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert [h["id"] for h in listed] == [handover["id"]]
    assert (await client.get("/handovers", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403
    assert (
        await client.post("/duty-log", headers=auth(runtime), json={"site": "riverside", "note": "x"})
    ).status_code == 403


async def test_the_agent_handed_to_accepts_the_handover_once(intake) -> None:
    runtime, client = intake
    handed = await client.post(
        "/handovers", headers=auth(runtime), json={"site": "harbour", "to_agent": "agent.2", "notes": "Busy night"}
    )
    assert handed.status_code == 201, handed.text
    handover_id = handed.json()["id"]
    assert handed.json()["accepted_at"] is None
    # Only the person it was handed to takes the shift over.
    other = await client.post(f"/handovers/{handover_id}/accept", headers=auth(runtime, subject="agent.3"))
    assert other.status_code == 403
    accepted = await client.post(f"/handovers/{handover_id}/accept", headers=auth(runtime, subject="agent.2"))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_by"] == "agent.2" and accepted.json()["accepted_at"]
    again = await client.post(f"/handovers/{handover_id}/accept", headers=auth(runtime, subject="agent.2"))
    assert again.status_code == 409 and again.json()["field"] == "accepted_at"
    listed = (await client.get("/handovers", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listed[0]["accepted_by"] == "agent.2"
    elsewhere = await client.post(
        f"/handovers/{handover_id}/accept", headers=auth(runtime, sites=("riverside",), subject="agent.2")
    )
    assert elsewhere.status_code == 403
