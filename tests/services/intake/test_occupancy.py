"""Move-in, move-out and ownership transfer at the front desk: each state machine over HTTP on SQLite and
PostgreSQL (illegal moves answer 409 and change nothing), defects becoming repair requests, the keys refused
before billing's settlement, billing's answers through the inbox, transfers under both balance rules; then the
transition tables as unit tests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from intake.occupancy.models import (
    DEFAULT_MOVE_IN,
    DEFAULT_MOVE_OUT,
    MOVE_IN,
    MOVE_OUT,
    TRANSFER,
    Action,
    BalanceRule,
    ItemKind,
    Procedure,
    Status,
    check_checklist,
    next_status,
)
from pm_platform.auth import mint_token
from pm_platform.errors import Conflict
from pm_platform.runtime import Runtime
from tests.services.intake.helpers import auth, deliver, envelope, events

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
OWNER = "harbour-A-0101-owner"  # Li Wei, the demo owner of A-0101
EMPTY_UNIT = "harbour-B-0302"  # unsold, nobody lives there
CONFIRMED = "billing.settlement.confirmed.v1"


def owner(runtime: Runtime, party_id: str = OWNER) -> dict[str, str]:
    token = mint_token(runtime.settings, f"owner.{party_id}", ["owner"], ["harbour"], party_id=party_id)
    return {"Authorization": "Bearer " + token}


def manager(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("manager",), subject="manager.harbour")


async def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def conflict(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


async def new_owner_of_empty_unit(client: httpx.AsyncClient, runtime: Runtime) -> str:
    body = {"role": "owner", "name": "Qian Hui", "phone": "13800000099", "pays": True}
    party = await ok(await client.post(f"/units/{EMPTY_UNIT}/parties", json=body, headers=auth(runtime)), 201)
    return str(party["id"])


async def answer(runtime: Runtime, settlement_id: str, procedure: str, owed_cents: int, party_id: str = OWNER) -> None:
    """Billing's answer to a settlement request, through intake's inbox."""
    data = {
        "settlement_id": settlement_id,
        "procedure": procedure,
        "unit_id": "harbour-A-0101",
        "party_id": party_id,
        "balance_cents": owed_cents,
        "owed_cents": owed_cents,
        "cleared": owed_cents == 0,
    }
    assert await deliver(runtime, envelope(runtime, CONFIRMED, data, correlation=settlement_id)) == "handled"


# --- move-in --------------------------------------------------------------------------------------------


async def test_a_move_in_runs_from_checklist_to_both_signatures_and_sets_the_archive(intake) -> None:
    runtime, client = intake
    agent = auth(runtime, subject="agent.harbour")
    config = await ok(await client.get("/sites/harbour/occupancy-config", headers=agent))
    assert config["balance_rule"] == "must_settle"
    assert [i["code"] for i in config["move_in_items"]][:3] == ["id_card", "title_document", "management_agreement"]
    party_id = await new_owner_of_empty_unit(client, runtime)

    opened = await ok(
        await client.post(
            f"/units/{EMPTY_UNIT}/move-ins", json={"party_id": party_id, "day": "2026-12-02"}, headers=agent
        ),
        201,
    )
    move_in = f"/move-ins/{opened['id']}"
    assert opened["status"] == "open" and "keys" in opened["missing"] and "handover_defects" not in opened["missing"]
    assert opened["allowed_actions"] == ["cancel", "record", "sign_agent"]

    # Signing before the checklist is done, or the owner before the agent: 409, nothing changed.
    early = await conflict(await client.post(f"{move_in}/sign-agent", headers=agent))
    assert early["field"] == "items" and "id_card" in early["missing"]
    wrong = await conflict(await client.post(f"{move_in}/sign-owner", headers=owner(runtime, party_id)))
    assert wrong["current_status"] == "open" and "sign_agent" in wrong["allowed_actions"]
    assert (await ok(await client.get(move_in, headers=agent)))["status"] == "open"

    # No keys before the owner's identity and documents are checked.
    keys = [{"number": "B0302-1", "label": "front door"}, {"number": "B0302-2", "label": "front door"}]
    unchecked = await conflict(await client.post(f"{move_in}/items/keys", json={"keys": keys}, headers=agent))
    assert unchecked["missing"] == ["id_card", "title_document", "management_agreement"]
    for code in ("id_card", "title_document", "management_agreement"):
        await ok(await client.post(f"{move_in}/items/{code}", json={"note": "seen"}, headers=agent))
    bad = await client.post(f"{move_in}/items/keys", json={}, headers=agent)
    assert bad.status_code == 422 and bad.json()["field"] == "keys"
    unknown = await client.post(f"{move_in}/items/parking_permit", json={}, headers=agent)
    assert unknown.status_code == 404
    await ok(await client.post(f"{move_in}/items/keys", json={"keys": keys}, headers=agent))
    await ok(await client.post(f"{move_in}/items/access_cards", json={"cards": ["C-7001"]}, headers=agent))
    photo = await ok(
        await client.post(
            "/occupancy/files", data={"site": "harbour"}, files={"file": ("m.png", PNG, "image/png")}, headers=agent
        ),
        201,
    )
    fetched = await client.get(f"/occupancy/files/{photo['key'].removeprefix('occupancy/')}", headers=agent)
    assert fetched.status_code == 200 and fetched.content == PNG
    readings = [
        {"meter": "water", "value": "12.5", "photo": photo["key"]},
        {"meter": "electricity", "value": 304.2},
    ]
    await ok(await client.post(f"{move_in}/items/opening_readings", json={"readings": readings}, headers=agent))

    # Each defect found at handover becomes a repair request of the unit, linked to the move-in.
    defects = [
        {"description": "Crack in the bathroom tiles", "category": "leaks_walls", "location": "bathroom"},
        {"description": "Balcony door does not lock", "category": "doors_locks"},
    ]
    recorded = await ok(
        await client.post(f"{move_in}/items/handover_defects", json={"defects": defects}, headers=agent)
    )
    assert len(recorded["defect_request_ids"]) == 2 and recorded["missing"] == []
    created = await events(runtime, "intake.request.created.v1")
    assert {e["data"]["request_id"] for e in created} == set(recorded["defect_request_ids"])
    assert all(e["data"]["unit_id"] == EMPTY_UNIT and e["data"]["kind"] == "repair" for e in created)
    request = await ok(await client.get(f"/requests/{recorded['defect_request_ids'][0]}", headers=agent))
    assert request["reporter_name"] == "Qian Hui" and opened["id"] in request["description"]
    assert any(line["data"].get("move_in_id") == opened["id"] for line in request["timeline"])

    signed = await ok(await client.post(f"{move_in}/sign-agent", headers=agent))
    assert signed["status"] == "agent_signed" and signed["agent_signed_by"] == "agent.harbour"
    await conflict(await client.post(f"{move_in}/items/id_card", json={}, headers=agent))
    await conflict(await client.post(f"{move_in}/complete", headers=agent))
    # Another owner cannot sign (nor see) it; the owner signs with their own token.
    assert (await client.post(f"{move_in}/sign-owner", headers=owner(runtime))).status_code == 403
    assert (await client.get(move_in, headers=owner(runtime))).status_code == 403
    assert (await client.get("/move-ins", headers=owner(runtime))).json()["total"] == 0
    signed = await ok(await client.post(f"{move_in}/sign-owner", headers=owner(runtime, party_id)))
    assert signed["status"] == "owner_signed" and signed["owner_signature_key"] is None

    done = await ok(await client.post(f"{move_in}/complete", headers=agent))
    assert done["status"] == "completed" and done["allowed_actions"] == []
    party = await ok(await client.get(f"/parties/{party_id}", headers=agent))
    assert party["move_in"] == "2026-12-02" and party["active"] is True
    assert (await ok(await client.get(f"/units/{EMPTY_UNIT}", headers=agent)))["occupied"] is True
    [moved] = await events(runtime, "intake.occupancy.moved_in.v1")
    assert moved["data"]["keys"] == keys and moved["data"]["cards"] == ["C-7001"]
    assert moved["data"]["readings"] == [
        {"meter": "water", "value": "12.5", "photo": photo["key"]},
        {"meter": "electricity", "value": "304.2", "photo": None},
    ]
    upserts = [e for e in await events(runtime, "intake.party.upserted.v1") if e["data"]["party_id"] == party_id]
    assert upserts[-1]["data"]["move_in"] == "2026-12-02"
    steps = [e["data"]["to_status"] for e in await events(runtime, "intake.occupancy.status_changed.v1")]
    assert steps == ["open", "agent_signed", "owner_signed", "completed"]

    timeline = await ok(await client.get(f"{move_in}/timeline", headers=agent))
    assert isinstance(timeline, list)
    kinds = [line["event_type"] for line in timeline]
    assert kinds.count("occupancy:item") == 7 and kinds[-1] == "intake.occupancy.moved_in.v1"
    unit_lines = (await client.get(f"/units/{EMPTY_UNIT}/timeline", headers=agent)).json()
    assert any(line["procedure"] == "move_in" and "Qian Hui moved in" in line["summary"] for line in unit_lines)
    # The owner follows their own move-in.
    mine = await ok(await client.get("/move-ins", headers=owner(runtime, party_id)))
    assert [m["id"] for m in mine["items"]] == [opened["id"]]
    assert (await client.get(f"{move_in}/timeline", headers=owner(runtime, party_id))).status_code == 200
    await conflict(await client.post(f"{move_in}/cancel", json={"reason": "too late"}, headers=agent))


async def test_the_owner_signs_on_the_agents_device_with_a_signature_image(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    party_id = await new_owner_of_empty_unit(client, runtime)
    config = await ok(await client.get("/sites/harbour/occupancy-config", headers=agent))
    # A site with a one-item checklist (a manager's choice; an agent may not change it).
    config["move_in_items"] = [{"code": "keys", "label": "Keys", "kind": "keys", "required": True}]
    del config["site"]
    assert (await client.put("/sites/harbour/occupancy-config", json=config, headers=agent)).status_code == 403
    await ok(await client.put("/sites/harbour/occupancy-config", json=config, headers=manager(runtime)))
    # A move-out checklist without its settlement item is refused naming the field; no upload for another site.
    unsettled = {**config, "move_out_items": [i for i in config["move_out_items"] if i["kind"] != "settlement"]}
    refused = await client.put("/sites/harbour/occupancy-config", json=unsettled, headers=manager(runtime))
    assert refused.status_code == 422 and "move_out_items" in refused.text
    elsewhere = await client.post(
        "/occupancy/files", data={"site": "riverside"}, files={"file": ("m.png", PNG, "image/png")}, headers=agent
    )
    assert elsewhere.status_code == 403
    opened = await ok(
        await client.post(
            f"/units/{EMPTY_UNIT}/move-ins", json={"party_id": party_id, "day": "2026-12-03"}, headers=agent
        ),
        201,
    )
    move_in = f"/move-ins/{opened['id']}"
    again = await client.post(
        f"/units/{EMPTY_UNIT}/move-ins", json={"party_id": party_id, "day": "2026-12-03"}, headers=agent
    )
    assert again.status_code == 409  # one open move-in per party
    await ok(await client.post(f"{move_in}/items/keys", json={"keys": [{"number": "K1"}]}, headers=agent))
    await ok(await client.post(f"{move_in}/sign-agent", headers=agent))

    missing = await client.post(f"{move_in}/sign-owner", headers=agent)
    assert missing.status_code == 422 and missing.json()["field"] == "signature"
    text = await client.post(
        f"{move_in}/sign-owner", files={"signature": ("s.txt", b"hello", "text/plain")}, headers=agent
    )
    assert text.status_code == 422 and text.json()["field"] == "signature"
    signed = await ok(
        await client.post(f"{move_in}/sign-owner", files={"signature": ("s.png", PNG, "image/png")}, headers=agent)
    )
    assert signed["status"] == "owner_signed" and signed["owner_signature_key"].startswith("occupancy/harbour/")
    image = await client.get(
        f"/occupancy/files/{signed['owner_signature_key'].removeprefix('occupancy/')}", headers=agent
    )
    assert image.status_code == 200 and image.content == PNG
    assert (await client.get("/occupancy/files/riverside/x.png", headers=agent)).status_code == 403

    # Cancelling needs a reason; a cancelled move-in moves no more.
    assert (await client.post(f"{move_in}/cancel", json={}, headers=agent)).status_code == 422
    cancelled = await ok(await client.post(f"{move_in}/cancel", json={"reason": "owner abroad"}, headers=agent))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "owner abroad"
    await conflict(await client.post(f"{move_in}/complete", headers=agent))
    assert (await ok(await client.get(f"/parties/{party_id}", headers=agent)))["move_in"] is None


# --- move-out -------------------------------------------------------------------------------------------


async def test_a_move_out_takes_the_keys_back_only_after_billing_confirms_the_settlement(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    opened = await ok(
        await client.post(
            "/units/harbour-A-0101/move-outs", json={"party_id": OWNER, "day": "2026-12-31"}, headers=agent
        ),
        201,
    )
    move_out = f"/move-outs/{opened['id']}"
    keys = {"keys": [{"number": "A0101-1"}, {"number": "A0101-2"}]}
    refused = await conflict(await client.post(f"{move_out}/return-keys", json=keys, headers=agent))
    assert refused["current_status"] == "open" and "return_keys" not in refused["allowed_actions"]
    early = await conflict(await client.post(f"{move_out}/request-settlement", headers=agent))
    assert early["missing"] == ["final_readings"]
    # The settlement is billing's to confirm, and the keys come back through return-keys only.
    await conflict(await client.post(f"{move_out}/items/settlement", json={}, headers=agent))
    await conflict(await client.post(f"{move_out}/items/keys", json=keys, headers=agent))

    readings = {"readings": [{"meter": "water", "value": "88.0"}, {"meter": "electricity", "value": "1520.4"}]}
    await ok(await client.post(f"{move_out}/items/final_readings", json=readings, headers=agent))
    asked = await ok(await client.post(f"{move_out}/request-settlement", headers=agent))
    assert asked["status"] == "settlement_requested"
    [request] = await events(runtime, "intake.occupancy.settlement_requested.v1")
    assert request["data"]["settlement_id"] == opened["id"] and request["data"]["move_out_date"] == "2026-12-31"
    assert request["data"]["final_readings"] == [
        {"meter": "water", "value": "88.0"},
        {"meter": "electricity", "value": "1520.4"},
    ]
    assert (await conflict(await client.post(f"{move_out}/return-keys", json=keys, headers=agent)))[
        "current_status"
    ] == ("settlement_requested")

    # Billing: 250.60 owed. The keys stay refused.
    await answer(runtime, opened["id"], "move_out", 25060)
    owed = await ok(await client.get(move_out, headers=agent))
    assert owed["status"] == "settlement_requested" and owed["owed_cents"] == 25060
    assert owed["settlement_cleared"] is False
    await conflict(await client.post(f"{move_out}/return-keys", json=keys, headers=agent))
    # After the owner paid, billing answers again: cleared.
    await answer(runtime, opened["id"], "move_out", 0)
    settled = await ok(await client.get(move_out, headers=agent))
    assert settled["status"] == "settled" and settled["items"]["settlement"]["by"] == "billing"

    await conflict(await client.post(f"{move_out}/complete", headers=agent))
    await conflict(await client.post(f"{move_out}/items/final_readings", json=readings, headers=agent))
    returned = await ok(await client.post(f"{move_out}/return-keys", json=keys, headers=agent))
    assert returned["status"] == "keys_returned" and returned["items"]["keys"]["keys"][0]["number"] == "A0101-1"
    incomplete = await conflict(await client.post(f"{move_out}/complete", headers=agent))
    assert incomplete["missing"] == ["unit_inspected", "access_cards", "deposits"]
    for code, body in (("unit_inspected", {}), ("access_cards", {"cards": ["C-100231"]}), ("deposits", {})):
        await ok(await client.post(f"{move_out}/items/{code}", json=body, headers=agent))
    done = await ok(await client.post(f"{move_out}/complete", headers=agent))
    assert done["status"] == "completed"
    party = await ok(await client.get(f"/parties/{OWNER}", headers=agent))
    assert party["move_out"] == "2026-12-31"
    [moved] = await events(runtime, "intake.occupancy.moved_out.v1")
    assert moved["data"]["keys"] == [{"number": "A0101-1", "label": None}, {"number": "A0101-2", "label": None}]
    assert moved["data"]["cards"] == ["C-100231"]
    steps = [e["data"]["action"] for e in await events(runtime, "intake.occupancy.status_changed.v1")]
    assert steps == ["open", "request_settlement", "confirm_settlement", "return_keys", "complete"]
    lines = await ok(await client.get(f"{move_out}/timeline", headers=agent))
    assert isinstance(lines, list)
    assert any(line["summary"] == "billing: 250.60 CNY owed" for line in lines)
    listed = await ok(await client.get("/move-outs?site=harbour&status=completed", headers=agent))
    assert [m["id"] for m in listed["items"]] == [opened["id"]]
    assert (await client.get("/move-outs", headers=auth(runtime, sites=("riverside",)))).json()["total"] == 0


# --- ownership transfer ---------------------------------------------------------------------------------

NEW_OWNER = {"name": "Zhou Min", "phone": "13800000077", "language": "zh-CN"}


async def test_a_transfer_under_must_settle_waits_for_billing_then_registers_the_new_owner(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    body = {"old_party_id": OWNER, "transfer_date": "2026-11-30", "new_owner": NEW_OWNER}
    opened = await ok(await client.post("/units/harbour-A-0101/transfers", json=body, headers=agent), 201)
    transfer = f"/transfers/{opened['id']}"
    assert opened["balance_rule"] == "must_settle" and opened["allowed_actions"] == ["cancel", "request_settlement"]
    assert (await client.post("/units/harbour-A-0101/transfers", json=body, headers=agent)).status_code == 409
    refused = await conflict(await client.post(f"{transfer}/complete", headers=agent))
    assert refused["current_status"] == "open"

    await ok(await client.post(f"{transfer}/request-settlement", headers=agent))
    [asked] = await events(runtime, "intake.occupancy.settlement_requested.v1")
    assert asked["data"]["procedure"] == "transfer" and asked["data"]["party_id"] == OWNER
    await answer(runtime, opened["id"], "transfer", 1200)
    await conflict(await client.post(f"{transfer}/complete", headers=agent))
    await answer(runtime, opened["id"], "transfer", 0)
    assert (await ok(await client.get(transfer, headers=agent)))["status"] == "settled"

    done = await ok(await client.post(f"{transfer}/complete", headers=agent))
    assert done["status"] == "completed" and done["new_party_id"]
    old = await ok(await client.get(f"/parties/{OWNER}", headers=agent))
    new = await ok(await client.get(f"/parties/{done['new_party_id']}", headers=agent))
    assert old["move_out"] == "2026-11-30" and old["active"] is False and old["pays"] is False
    assert new["role"] == "owner" and new["move_in"] == "2026-11-30" and new["pays"] is True
    [transferred] = await events(runtime, "intake.occupancy.transferred.v1")
    assert transferred["data"]["old_party_id"] == OWNER and transferred["data"]["new_party_id"] == new["id"]
    assert transferred["data"]["balance_rule"] == "must_settle" and transferred["data"]["balance_cents"] == 0
    # The unit's history keeps both owners.
    lines = (await client.get("/units/harbour-A-0101/timeline", headers=agent)).json()
    passed = [line for line in lines if line["procedure"] == "transfer" and "ownership passed" in line["summary"]]
    assert len(passed) == 1 and "Li Wei" in passed[0]["summary"] and "Zhou Min" in passed[0]["summary"]
    parties = (await client.get("/units/harbour-A-0101/parties", headers=agent)).json()
    assert {p["name"] for p in parties} >= {"Li Wei", "Zhou Min"}
    # The old owner still reads the transfer (the new owner's name, not their phone); another owner does not.
    seen = await ok(await client.get(transfer, headers=owner(runtime)))
    assert seen["new_owner"] == {"name": "Zhou Min"} and "13800000077" not in json.dumps(seen)
    mine = await ok(await client.get(transfer, headers=owner(runtime, new["id"])))
    assert mine["new_owner"]["phone"] == "13800000077"
    assert (await client.get(transfer, headers=owner(runtime, "harbour-A-0102-owner"))).status_code == 403


async def test_a_transfer_under_carry_over_completes_at_once_and_the_balance_stays_with_the_unit(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    config = await ok(await client.get("/sites/harbour/occupancy-config", headers=agent))
    del config["site"]
    await ok(
        await client.put(
            "/sites/harbour/occupancy-config", json={**config, "balance_rule": "carry_over"}, headers=manager(runtime)
        )
    )
    body = {"old_party_id": OWNER, "transfer_date": "2026-11-30", "new_owner": NEW_OWNER}
    opened = await ok(await client.post("/units/harbour-A-0101/transfers", json=body, headers=agent), 201)
    assert opened["balance_rule"] == "carry_over" and opened["allowed_actions"] == ["cancel", "complete"]
    await conflict(await client.post(f"/transfers/{opened['id']}/request-settlement", headers=agent))
    done = await ok(await client.post(f"/transfers/{opened['id']}/complete", headers=agent))
    assert done["status"] == "completed" and done["balance_cents"] is None
    assert await events(runtime, "intake.occupancy.settlement_requested.v1") == []
    [transferred] = await events(runtime, "intake.occupancy.transferred.v1")
    assert transferred["data"]["balance_rule"] == "carry_over"
    # The unit's paying party is now the new owner (billing keeps the balance on the unit).
    units = [e for e in await events(runtime, "intake.unit.upserted.v1") if e["data"]["unit_id"] == "harbour-A-0101"]
    assert units[-1]["data"]["paying_party_id"] == done["new_party_id"]
    bad = await client.post("/units/harbour-A-0101/transfers", json={**body, "old_party_id": OWNER}, headers=agent)
    assert bad.status_code == 422 and bad.json()["field"] == "old_party_id"  # no longer an active owner


# --- the transition tables ------------------------------------------------------------------------------


def _every_move(machine: dict[Status, dict[Action, Status]]) -> list[tuple[Status, Action]]:
    return [(status, action) for status in machine for action in Action]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("procedure", "rule", "machine"),
    [
        (Procedure.move_in, None, MOVE_IN),
        (Procedure.move_out, None, MOVE_OUT),
        (Procedure.transfer, BalanceRule.must_settle, TRANSFER[BalanceRule.must_settle]),
        (Procedure.transfer, BalanceRule.carry_over, TRANSFER[BalanceRule.carry_over]),
    ],
)
def test_every_move_not_in_the_table_is_a_conflict_naming_the_allowed_actions(
    procedure: Procedure, rule: BalanceRule | None, machine: dict[Status, dict[Action, Status]]
) -> None:
    for status, action in _every_move(machine):
        target = machine[status].get(action)
        if target is not None:
            assert next_status(procedure, "x", status, action, rule) is target
            continue
        with pytest.raises(Conflict) as refused:
            next_status(procedure, "x", status, action, rule)
        assert refused.value.extra["allowed_actions"] == sorted(machine[status])
    assert machine[Status.completed] == {} and machine[Status.cancelled] == {}


@pytest.mark.unit
def test_the_keys_come_back_only_from_settled_and_a_move_in_needs_both_signatures_in_order() -> None:
    assert [s for s, moves in MOVE_OUT.items() if Action.return_keys in moves] == [Status.settled]
    assert [s for s, moves in MOVE_OUT.items() if Action.confirm_settlement in moves] == [Status.settlement_requested]
    path = [Action.sign_agent, Action.sign_owner, Action.complete]
    status = Status.open
    for action in path:
        status = next_status(Procedure.move_in, "x", status, action)
    assert status is Status.completed
    with pytest.raises(Conflict):
        next_status(Procedure.move_in, "x", Status.open, Action.sign_owner)
    with pytest.raises(Conflict):
        next_status(Procedure.transfer, "x", Status.open, Action.request_settlement, BalanceRule.carry_over)
    with pytest.raises(Conflict):
        next_status(Procedure.transfer, "x", Status.open, Action.complete, BalanceRule.must_settle)


@pytest.mark.unit
def test_a_checklist_names_each_item_once_and_a_move_out_has_its_settlement_and_keys() -> None:
    assert check_checklist(DEFAULT_MOVE_IN, "move_in") and check_checklist(DEFAULT_MOVE_OUT, "move_out")
    with pytest.raises(ValueError, match="listed twice"):
        check_checklist([*DEFAULT_MOVE_IN, DEFAULT_MOVE_IN[0]], "move_in")
    with pytest.raises(ValueError, match="exactly one settlement"):
        check_checklist([i for i in DEFAULT_MOVE_OUT if i.kind is not ItemKind.settlement], "move_out")
    with pytest.raises(ValueError, match="only a move-out"):
        check_checklist([*DEFAULT_MOVE_IN, *[i for i in DEFAULT_MOVE_OUT if i.kind is ItemKind.settlement]], "move_in")
