"""Intake: an owner reads their own unit and no other (SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from pm_platform.auth import mint_token
from tests.services import test_intake as base

intake = base.intake  # the fixture, shared with the service's main tests


async def test_an_owner_reads_their_own_unit_and_no_other(intake) -> None:
    runtime, client = intake

    def owner(party_id: str | None, subject: str = "owner.app") -> dict[str, str]:
        token = mint_token(runtime.settings, subject, ["owner"], ["harbour"], party_id=party_id)
        return {"Authorization": "Bearer " + token}

    li = owner("harbour-A-0101-owner")
    response = await client.get("/units/harbour-A-0101", headers=li)
    assert response.status_code == 200, response.text
    unit = response.json()
    assert unit["id"] == "harbour-A-0101"
    # Who lives there, with contacts masked (an owner is not staff).
    [me] = [p for p in unit["parties"] if p["id"] == "harbour-A-0101-owner"]
    assert me["phone"] == "138****0001"
    for other in ("harbour-A-0102", "riverside-T1-1501"):
        denied = await client.get(f"/units/{other}", headers=li)
        assert denied.status_code == 403 and denied.json()["field"] in ("unit_id", "site"), denied.text
    nobody = await client.get("/units/harbour-A-0101", headers=owner(None))
    assert nobody.status_code == 403 and nobody.json()["field"] == "unit_id"
    # The rest of the archive stays staff-only.
    assert (await client.get("/sites/harbour/units", headers=li)).status_code == 403
    assert (await client.get("/units/harbour-A-0101/parties", headers=li)).status_code == 403


async def test_a_classification_carries_what_dispatch_needs_to_open_the_complaints_work(intake) -> None:
    runtime, client = intake
    complaint = {
        **base.REPAIR,
        "kind": "complaint",
        "in_unit": False,
        "priority": "high",
        "description": "Guard shut the water off and left",
    }
    created = await base.post(client, runtime, complaint)
    response = await client.post(
        f"/requests/{created['id']}/classification",
        headers=base.auth(runtime),
        json={"complaint_class": "valid", "department": "security"},
    )
    assert response.status_code == 200, response.text
    [event] = await base.events(runtime, "intake.request.classified.v1")
    data = event["data"]
    assert (data["department"], data["priority"], data["in_unit"], data["location"], data["appointment"]) == (
        "security",
        "high",
        False,
        None,
        None,
    )
    assert data["created_at"] == created["created_at"].replace("Z", "+00:00")
