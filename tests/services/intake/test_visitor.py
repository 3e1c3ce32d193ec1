"""Visitors and temporary residents: registered for a host unit and a window, signed in and out at the gate,
expired by a durable timer; the gate's list has no phones (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.main import timers
from intake.visitor.models import TRANSITIONS, Action, Status
from pm_platform.envelope import utcnow
from pm_platform.errors import Conflict
from pm_platform.statemachine import advance
from pm_platform.timers import fire_due
from tests.services.intake.helpers import auth, fetch, owner_auth, send


def _visit(hours: int = 4, **changes: object) -> dict[str, object]:
    return {
        "unit_id": "harbour-A-0101",
        "name": "Zhao Qiang",
        "id_last4": "123x",
        "phone": "13911112222",
        "purpose": "visiting family",
        "vehicle_plate": "粤B7788",
        "valid_to": (utcnow() + timedelta(hours=hours)).isoformat(),
        **changes,
    }


@pytest.mark.unit
def test_the_visitor_table() -> None:
    assert advance(TRANSITIONS, Status.expected, Action.sign_in, what="v") is Status.on_site
    assert advance(TRANSITIONS, Status.on_site, Action.sign_out, what="v") is Status.left
    assert advance(TRANSITIONS, Status.left, Action.sign_in, what="v") is Status.on_site  # back within the window
    assert set(TRANSITIONS) == set(Status)
    with pytest.raises(Conflict) as inside:
        advance(TRANSITIONS, Status.on_site, Action.cancel, what="v")
    assert inside.value.extra == {"current_status": "on_site", "allowed_actions": ["sign_out"]}
    for final in (Status.expired, Status.cancelled):
        assert TRANSITIONS[final] == {}


async def test_a_visitor_signs_in_and_out_and_security_never_sees_the_phone(intake) -> None:
    runtime, client = intake
    agent, guard = auth(runtime), auth(runtime, roles=("security",), subject="guard.harbour")
    visitor = await send(client, agent, "/visitors", _visit(), status=201)
    assert visitor["status"] == "expected" and visitor["phone"] == "13911112222" and visitor["id_last4"] == "123X"
    later = await send(
        client, agent, "/visitors", _visit(valid_from=(utcnow() + timedelta(days=2)).isoformat(), hours=60), status=201
    )

    gate = await fetch(client, guard, "/visitors?site=harbour&on_site=true")
    assert [v["id"] for v in gate["items"]] == [visitor["id"]]  # the one due in two days is not expected yet
    assert {v["phone"] for v in gate["items"]} == {None}
    inside = await send(client, guard, f"/visitors/{visitor['id']}/sign-in")
    assert inside["status"] == "on_site" and inside["entries"] == 1 and inside["phone"] is None

    cancel = await client.post(f"/visitors/{visitor['id']}/cancel", json={"reason": "x"}, headers=agent)
    assert cancel.status_code == 409 and cancel.json()["allowed_actions"] == ["sign_out"]
    assert (await fetch(client, agent, f"/visitors/{visitor['id']}"))["status"] == "on_site"  # nothing changed

    out = await send(client, guard, f"/visitors/{visitor['id']}/sign-out")
    assert out["status"] == "left"
    back = await send(client, guard, f"/visitors/{visitor['id']}/sign-in")
    assert back["entries"] == 2
    twice = await client.post(f"/visitors/{visitor['id']}/sign-in", headers=guard)
    assert twice.status_code == 409 and twice.json()["current_status"] == "on_site"

    early = await client.post(f"/visitors/{later['id']}/sign-in", headers=guard)
    assert early.status_code == 409 and early.json()["field"] == "valid_from"
    assert (await fetch(client, agent, f"/visitors/{later['id']}"))["status"] == "expected"

    timeline = await fetch(client, agent, f"/visitors/{visitor['id']}/timeline")
    assert [e["event_type"] for e in timeline] == [
        "visitor.registered",
        "visitor.signed_in",
        "visitor.signed_out",
        "visitor.signed_in",
    ]
    assert (await client.get(f"/visitors/{visitor['id']}/timeline", headers=guard)).status_code == 403
    bad = await client.post("/visitors", json=_visit(id_last4="12345678"), headers=agent)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_a_registration_expires_when_its_window_ends_and_someone_inside_overstays(intake) -> None:
    runtime, client = intake
    agent, guard = auth(runtime), auth(runtime, roles=("security",))
    expected = await send(client, agent, "/visitors", _visit(hours=1), status=201)
    inside = await send(
        client, agent, "/visitors", _visit(hours=1, name="Qian Li", kind="temporary_resident"), status=201
    )
    await send(client, guard, f"/visitors/{inside['id']}/sign-in")

    assert await fire_due(runtime, timers, now=utcnow() + timedelta(hours=2)) == 2
    assert (await fetch(client, agent, f"/visitors/{expected['id']}"))["status"] == "expired"
    overstaying = await fetch(client, guard, f"/visitors/{inside['id']}")
    assert overstaying["status"] == "on_site"
    late = await client.post(f"/visitors/{expected['id']}/sign-in", headers=guard)
    assert late.status_code == 409 and late.json()["current_status"] == "expired"
    # Inside past the window: still on the gate's list, shown overstaying, until signed out.
    assert (await send(client, guard, f"/visitors/{inside['id']}/sign-out"))["status"] == "left"


async def test_an_owner_registers_visitors_to_their_own_unit_only(intake) -> None:
    runtime, client = intake
    owner = owner_auth(runtime)
    mine = await send(client, owner, "/visitors", _visit(), status=201)
    assert mine["registered_by"] == "harbour-A-0101-owner"
    refused = await client.post("/visitors", json=_visit(unit_id="harbour-A-0102"), headers=owner)
    assert refused.status_code == 403 and refused.json()["field"] == "unit_id"
    await send(client, auth(runtime), "/visitors", _visit(unit_id="harbour-A-0102"), status=201)
    listed = await fetch(client, owner, "/visitors")
    assert [v["id"] for v in listed["items"]] == [mine["id"]]
    neighbour = owner_auth(runtime, "harbour-A-0102-owner")
    assert (await client.get(f"/visitors/{mine['id']}", headers=neighbour)).status_code == 403
    # Owners do not work the gate.
    assert (await client.post(f"/visitors/{mine['id']}/sign-in", headers=owner)).status_code == 403
    assert (await send(client, owner, f"/visitors/{mine['id']}/cancel", {"reason": "plans changed"}))["status"] == (
        "cancelled"
    )
