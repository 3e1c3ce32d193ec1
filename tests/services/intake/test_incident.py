"""intake.incident: requests on one building and category form an incident that can be broadcast (on SQLite and
PostgreSQL, no NATS).
"""

from __future__ import annotations

from tests.services.intake.helpers import auth, detail, events, post


async def test_requests_on_one_building_and_category_form_an_incident_that_can_be_broadcast(intake) -> None:
    runtime, client = intake
    ids = []
    for unit in ("harbour-A-0101", "harbour-A-0102"):
        created = await post(client, runtime, unit_id=unit, description="No water")
        assert created["incident_id"] is None
        ids.append(created["id"])
    common = await post(
        client,
        runtime,
        unit_id=None,
        in_unit=False,
        location="Block A basement",
        building="A",
        description="Water pouring from a pipe",
    )
    ids.append(common["id"])
    incident_id = common["incident_id"]
    assert incident_id
    later = await post(client, runtime, unit_id="harbour-A-1201", description="No water either")
    assert later["incident_id"] == incident_id
    elsewhere = await post(client, runtime, unit_id="harbour-B-0301", description="No water in B")
    assert elsewhere["incident_id"] is None
    incident = (await client.get(f"/incidents/{incident_id}", headers=auth(runtime))).json()
    assert incident["request_count"] == 4 and sorted(r["id"] for r in incident["requests"]) == sorted(
        [*ids, later["id"]]
    )
    response = await client.post(
        f"/incidents/{incident_id}/broadcast",
        headers=auth(runtime),
        json={"message": "Water is off in Block A while a burst pipe is repaired", "urgency": "emergency"},
    )
    assert response.status_code == 201, response.text
    [event] = await events(runtime, "intake.incident.broadcast.v1")
    assert event["data"]["unit_ids"] == ["harbour-A-0101", "harbour-A-0102", "harbour-A-1201"]
    assert event["data"]["building"] == "A" and event["data"]["urgency"] == "emergency"
    timeline = (await detail(client, runtime, ids[0]))["timeline"]
    assert timeline[-1]["event_type"] == "intake.incident.broadcast.v1"
    bad = await client.post(
        f"/incidents/{incident_id}/broadcast",
        headers=auth(runtime),
        json={"message": "x", "unit_ids": ["riverside-T1-1501"]},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "unit_ids"
    assert (
        await client.get(f"/incidents/{incident_id}", headers=auth(runtime, sites=("riverside",)))
    ).status_code == 403
