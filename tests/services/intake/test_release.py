"""Release passes (放行条): the owner's authorisation, the site's arrears rule, used once at the gate on or
before its day; security sees the goods and "may leave", never phones or amounts (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from intake.release.models import TRANSITIONS, Action, ReleasePass, Status
from intake.release.service import gate_view
from pm_platform.errors import Conflict
from pm_platform.statemachine import advance
from tests.services.intake.helpers import auth, deliver, envelope, fetch, owner_auth, send

UNIT = "harbour-A-0101"
PASS = {
    "unit_id": UNIT,
    "items": [{"description": "sofa", "quantity": 1}, {"description": "boxes of books", "quantity": 6}],
    "carrier": "Swift Movers",
    "vehicle_plate": "粤B12345",
}
PDF = b"%PDF-1.4\n% a signed authorisation\n"


@pytest.mark.unit
def test_the_release_pass_table() -> None:
    assert advance(TRANSITIONS, Status.requested, Action.authorise, what="p") is Status.authorised
    assert advance(TRANSITIONS, Status.authorised, Action.issue, what="p") is Status.issued
    assert advance(TRANSITIONS, Status.issued, Action.use, what="p") is Status.used
    assert set(TRANSITIONS) == set(Status)
    with pytest.raises(Conflict) as used_twice:
        advance(TRANSITIONS, Status.used, Action.use, what="release pass FX-1")
    assert used_twice.value.extra == {"current_status": "used", "allowed_actions": []}
    with pytest.raises(Conflict) as unauthorised:
        advance(TRANSITIONS, Status.requested, Action.issue, what="release pass FX-1")
    assert unauthorised.value.extra["allowed_actions"] == ["authorise", "revoke"]
    for status in (Status.used, Status.revoked):
        assert TRANSITIONS[status] == {}


@pytest.mark.unit
def test_the_gate_reads_may_leave_only_for_an_issued_pass_on_or_before_its_day() -> None:
    day = date(2026, 12, 2)
    release = ReleasePass(number="FX-1", site="harbour", unit_id=UNIT, status="issued", items=[], valid_until=day)
    assert gate_view(release, day).may_leave and gate_view(release, day).unit == "A-0101"
    late = gate_view(release, day + timedelta(days=1))
    assert not late.may_leave and late.reason == "expired on 2026-12-02"
    release.status = "requested"
    assert gate_view(release, day).reason == "not issued yet"


async def _issued(client, runtime) -> dict:
    agent = auth(runtime)
    created = await send(client, agent, "/release-passes", PASS, status=201)
    assert created["status"] == "requested" and created["allowed_actions"] == ["authorise", "revoke"]
    await send(client, owner_auth(runtime), f"/release-passes/{created['number']}/authorise")
    return await send(client, agent, f"/release-passes/{created['number']}/issue")


async def test_a_pass_authorised_by_the_owner_is_issued_and_used_once_at_the_gate(intake) -> None:
    runtime, client = intake
    issued = await _issued(client, runtime)
    number = issued["number"]
    assert issued["status"] == "issued" and issued["authorisation_method"] == "owner_app"
    assert issued["authorised_by"] == "harbour-A-0101-owner"
    assert issued["payment"] == {
        "known": False,
        "in_arrears": False,
        "overdue_cents": 0,
        "currency": "CNY",
        "rule": "supervisor",
        "may_issue": True,
        "reason": None,
    }
    guard = auth(runtime, roles=("security",), subject="guard.harbour")
    check = await fetch(client, guard, f"/release-passes/{number}/gate")
    assert check["may_leave"] is True and check["unit"] == "A-0101" and len(check["items"]) == 2
    assert not {"payment", "phone", "overdue_cents", "authorised_by"} & set(check)
    used = await send(client, guard, f"/release-passes/{number}/use", {"gate": "north"})
    assert used["status"] == "used" and used["may_leave"] is False and used["reason"] == "already used at north"

    again = await client.post(f"/release-passes/{number}/use", json={"gate": "south"}, headers=guard)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["current_status"] == "used" and again.json()["allowed_actions"] == []
    after = await fetch(client, auth(runtime), f"/release-passes/{number}")
    assert after["gate"] == "north" and after["used_at"] == used["used_at"]  # nothing changed

    # Security reads the gate's view only: not the desk's listing with payment status.
    assert (await client.get("/release-passes?site=harbour", headers=guard)).status_code == 403
    timeline = await fetch(client, auth(runtime), f"/release-passes/{number}/timeline")
    assert [e["event_type"] for e in timeline] == [
        "release_pass.requested",
        "release_pass.authorised",
        "release_pass.issued",
        "release_pass.used",
    ]
    unit_lines = await fetch(client, auth(runtime), f"/units/{UNIT}/timeline")
    assert {e["procedure"] for e in unit_lines} == {"release_pass"}


async def test_the_desk_records_how_it_verified_the_owner(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    created = await send(client, agent, "/release-passes", PASS, status=201)
    path = f"/release-passes/{created['number']}/authorise"
    unsaid = await client.post(path, json={}, headers=agent)
    assert unsaid.status_code == 422 and unsaid.json()["field"] == "method"
    no_document = await client.post(path, json={"method": "written"}, headers=agent)
    assert no_document.status_code == 422
    stored = await client.post(
        "/register-files", data={"site": "harbour"}, files={"file": ("auth.pdf", PDF, "application/pdf")}, headers=agent
    )
    assert stored.status_code == 201, stored.text
    key, url = stored.json()["key"], stored.json()["url"]
    done = await send(client, agent, path, {"method": "written", "document_key": key, "note": "signed by Li Wei"})
    assert done["authorisation_method"] == "written" and done["authorisation_key"] == key
    served = await client.get(url, headers=agent)
    assert served.status_code == 200 and served.content == PDF
    # A file of another site, or a second authorisation, is refused.
    twice = await client.post(path, json={"method": "call_back"}, headers=agent)
    assert twice.status_code == 409 and twice.json()["current_status"] == "authorised"
    guard = auth(runtime, roles=("security",))
    assert (await client.get(url, headers=guard)).status_code == 403
    assert (await client.get("/register-files/harbour/nothing.pdf", headers=agent)).status_code == 404


async def test_the_sites_arrears_rule_decides_and_the_agent_sees_why(intake) -> None:
    runtime, client = intake
    assert await deliver(runtime, envelope(runtime, "billing.account.status_changed.v1")) == "handled"  # in arrears
    agent, supervisor = auth(runtime), auth(runtime, roles=("supervisor",), subject="sup.1")
    manager = auth(runtime, roles=("manager",), subject="mgr.1")
    created = await send(client, agent, "/release-passes", PASS, status=201)
    number = created["number"]
    await send(client, agent, f"/release-passes/{number}/authorise", {"method": "owner_present"})

    # Default rule: an agent is refused, a supervisor issues with a reason.
    seen = await fetch(client, agent, f"/release-passes/{number}")
    assert seen["payment"]["in_arrears"] and seen["payment"]["overdue_cents"] == 26200
    assert seen["payment"]["may_issue"] is False and "262.00 CNY overdue" in seen["payment"]["reason"]
    refused = await client.post(f"/release-passes/{number}/issue", headers=agent)
    assert refused.status_code == 409 and refused.json()["field"] == "unit_id"
    assert "only a supervisor or manager may issue it" in refused.json()["detail"]
    assert (await fetch(client, agent, f"/release-passes/{number}"))["status"] == "authorised"
    no_reason = await client.post(f"/release-passes/{number}/issue", headers=supervisor)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "arrears_override"

    # A site that refuses: not even a supervisor.
    rules = await client.put("/sites/harbour/register-settings", json={"release_in_arrears": "refuse"}, headers=manager)
    assert rules.status_code == 200 and rules.json()["parcel_reminder_days"] == 3
    assert (await client.put("/sites/harbour/register-settings", json={}, headers=agent)).status_code == 403
    body = {"arrears_override": "moving the owner's mother out, agreed with the manager"}
    refused = await client.post(f"/release-passes/{number}/issue", json=body, headers=supervisor)
    assert refused.status_code == 409 and "refuses release passes until paid" in refused.json()["detail"]

    # Back to the supervisor rule: issued with the reason on record.
    await client.put("/sites/harbour/register-settings", json={"release_in_arrears": "supervisor"}, headers=manager)
    issued = await send(client, supervisor, f"/release-passes/{number}/issue", body)
    assert issued["status"] == "issued" and issued["arrears_override"] == body["arrears_override"]

    # A site that allows: the agent issues, seeing the arrears.
    await client.put("/sites/harbour/register-settings", json={"release_in_arrears": "allow"}, headers=manager)
    other = await send(client, agent, "/release-passes", PASS, status=201)
    await send(client, agent, f"/release-passes/{other['number']}/authorise", {"method": "call_back"})
    allowed = await send(client, agent, f"/release-passes/{other['number']}/issue")
    assert allowed["status"] == "issued" and allowed["payment"]["in_arrears"] is True


async def test_a_pass_past_its_day_or_revoked_does_not_let_goods_out(intake) -> None:
    runtime, client = intake
    guard = auth(runtime, roles=("security",))
    late = await _issued(client, runtime)
    async with runtime.uow() as uow:
        await uow.session.execute(
            update(ReleasePass)
            .where(ReleasePass.number == late["number"])
            .values(valid_until=date.fromisoformat(late["valid_until"]) - timedelta(days=1))
        )
        await uow.commit()
    expired = await client.post(f"/release-passes/{late['number']}/use", headers=guard)
    assert expired.status_code == 409 and expired.json()["field"] == "valid_until"
    assert (await fetch(client, guard, f"/release-passes/{late['number']}/gate"))["status"] == "issued"

    revoked = await _issued(client, runtime)
    done = await send(client, auth(runtime), f"/release-passes/{revoked['number']}/revoke", {"reason": "owner called"})
    assert done["status"] == "revoked"
    refused = await client.post(f"/release-passes/{revoked['number']}/use", headers=guard)
    assert refused.status_code == 409 and refused.json()["current_status"] == "revoked"

    past = await client.post("/release-passes", json={**PASS, "valid_until": "2020-01-01"}, headers=auth(runtime))
    assert past.status_code == 422 and past.json()["field"] == "valid_until"


async def test_an_owner_sees_and_authorises_only_their_own_units_passes(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    mine = await send(client, agent, "/release-passes", PASS, status=201)
    await send(client, agent, "/release-passes", {**PASS, "unit_id": "harbour-A-0102"}, status=201)
    owner, neighbour = owner_auth(runtime), owner_auth(runtime, "harbour-A-0102-owner")
    listed = await fetch(client, owner, "/release-passes")
    assert [p["number"] for p in listed["items"]] == [mine["number"]] and listed["total"] == 1
    assert listed["items"][0]["payment"] is None  # the desk's context, not the owner's
    assert (await client.get(f"/release-passes/{mine['number']}", headers=neighbour)).status_code == 403
    stranger = await client.post(f"/release-passes/{mine['number']}/authorise", headers=neighbour)
    assert stranger.status_code == 403
    assert (await client.post(f"/release-passes/{mine['number']}/issue", headers=owner)).status_code == 403
    assert (await client.post("/release-passes", json=PASS, headers=owner)).status_code == 403
    other_site = await client.post("/release-passes", json={**PASS, "unit_id": "riverside-T1-1501"}, headers=agent)
    assert other_site.status_code == 403
