"""Keys held for owners: a register per unit, issued and returned with signatures, who holds what now, and each
key's history (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from intake.keys.models import TRANSITIONS, Action, Status
from pm_platform.errors import Conflict
from pm_platform.statemachine import advance
from tests.services.intake.helpers import auth, fetch, owner_auth, send

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.unit
def test_the_key_table() -> None:
    assert advance(TRANSITIONS, Status.in_cabinet, Action.issue, what="k") is Status.issued
    assert advance(TRANSITIONS, Status.issued, Action.return_, what="k") is Status.in_cabinet
    assert advance(TRANSITIONS, Status.in_cabinet, Action.hand_back, what="k") is Status.handed_back
    with pytest.raises(Conflict) as out:
        advance(TRANSITIONS, Status.issued, Action.issue, what="key 7")
    assert out.value.extra == {"current_status": "issued", "allowed_actions": ["return"]}
    assert TRANSITIONS[Status.handed_back] == {}


async def test_a_key_is_issued_and_returned_with_signatures_and_the_register_says_who_holds_it(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    key = await send(
        client, agent, "/keys", {"unit_id": "harbour-B-0302", "tag": "K-017", "opens": "front door"}, status=201
    )
    assert key["status"] == "in_cabinet" and key["allowed_actions"] == ["hand_back", "issue"]
    duplicate = await client.post(
        "/keys", json={"unit_id": "harbour-A-0101", "tag": "K-017", "opens": "x"}, headers=agent
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "tag"
    await send(client, agent, "/keys", {"unit_id": "harbour-A-0101", "tag": "K-018", "opens": "mailbox"}, status=201)

    signature = await client.post(
        "/register-files", data={"site": "harbour"}, files={"file": ("s.png", PNG, "image/png")}, headers=agent
    )
    image = signature.json()["key"]
    issue = {
        "to": "Feng Contracting",
        "purpose": "measure for curtains",
        "signature": {"name": "Feng Yu", "image_key": image},
    }
    issued = await send(client, agent, f"/keys/{key['id']}/issue", issue)
    assert issued["status"] == "issued" and issued["holder"] == "Feng Contracting"
    again = await client.post(f"/keys/{key['id']}/issue", json=issue, headers=agent)
    assert again.status_code == 409 and again.json()["current_status"] == "issued"
    assert (await fetch(client, agent, f"/keys/{key['id']}"))["holder"] == "Feng Contracting"  # nothing changed

    held = await fetch(client, agent, "/keys?site=harbour&held=true")
    assert [(k["tag"], k["holder"], k["purpose"]) for k in held["items"]] == [
        ("K-017", "Feng Contracting", "measure for curtains")
    ]
    assert (await fetch(client, agent, "/keys?site=harbour&held=false"))["total"] == 1

    foreign = await client.post(
        f"/keys/{key['id']}/return",
        json={"by": "Feng Yu", "signature": {"name": "Feng Yu", "image_key": "register/riverside/x.png"}},
        headers=agent,
    )
    assert foreign.status_code == 422 and foreign.json()["field"] == "signature.image_key"
    returned = await send(
        client, agent, f"/keys/{key['id']}/return", {"by": "Feng Yu", "signature": {"name": "Feng Yu"}}
    )
    assert returned["status"] == "in_cabinet" and returned["holder"] is None
    handed = await send(client, agent, f"/keys/{key['id']}/hand-back", {"by": "the owner", "signature": {"name": "Wu"}})
    assert handed["status"] == "handed_back" and handed["allowed_actions"] == []

    history = await fetch(client, agent, f"/keys/{key['id']}/history")
    assert [(m["action"], m["person"], m["signature_name"]) for m in history] == [
        ("received", None, None),
        ("issue", "Feng Contracting", "Feng Yu"),
        ("return", "Feng Yu", "Feng Yu"),
        ("hand_back", "the owner", "Wu"),
    ]
    assert history[1]["signature_key"] == image
    timeline = await fetch(client, agent, f"/keys/{key['id']}/timeline")
    assert len(timeline) == 4 and timeline[1]["summary"].startswith("key K-017 issued to Feng Contracting")


async def test_an_owner_reads_their_own_units_keys_and_security_none(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    mine = await send(client, agent, "/keys", {"unit_id": "harbour-A-0101", "tag": "K-1", "opens": "door"}, status=201)
    await send(client, agent, "/keys", {"unit_id": "harbour-A-0102", "tag": "K-2", "opens": "door"}, status=201)
    owner = owner_auth(runtime)
    assert [k["id"] for k in (await fetch(client, owner, "/keys"))["items"]] == [mine["id"]]
    issue = {"to": "x", "purpose": "y", "signature": {"name": "x"}}
    assert (await client.post(f"/keys/{mine['id']}/issue", json=issue, headers=owner)).status_code == 403
    assert (await client.get("/keys?site=harbour", headers=auth(runtime, roles=("security",)))).status_code == 403
