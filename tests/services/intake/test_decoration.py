"""intake.decoration: decoration permits from the application to the deposit's return, driven over HTTP and by
billing's and dispatch's events as those services publish them (SQLite and PostgreSQL); the review's durable
timers on the site's working calendar; files, the agreement, passes for security and the owner's scope; then the
pure rules (state machine, working days, neighbours, fee) as unit tests."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from intake.decoration.models import TRANSITIONS, Action, Status, next_status
from intake.decoration.rules import Calendar, Place, add_working_days, fee, neighbours, within
from intake.main import create, timers
from intake.seed import seed
from pm_platform import bus, migrations
from pm_platform.auth import mint_token
from pm_platform.errors import Conflict
from pm_platform.natsserver import NatsServer
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings
from pm_platform.timers import fire_due
from tests.platform.harness import eventually, provision
from tests.services.intake.helpers import (
    REPAIR,
    auth,
    clear_outbox,
    deliver,
    envelope,
    events,
    new_runtime,
    outbox_rows,
)

PDF = b"%PDF-1.4\n" + b"0" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
CHECKLIST = ["load_bearing_walls", "wet_areas", "facade_windows", "pipes", "wiring", "fire_equipment"]


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def application(**changes: Any) -> dict[str, Any]:
    return {
        "unit_id": "harbour-A-0101",
        "party_id": "harbour-A-0101-owner",
        "scope": ["kitchen retiling", "bathroom waterproofing", "rewiring the living room"],
        "description": "Kitchen and bathroom renovation, no structural change.",
        "contractor": {
            "company": "Bright Home Decoration Co.",
            "licence_number": "JZ-2026-0188",
            "manager_name": "Qian Jun",
            "manager_phone": "13912345678",
        },
        "workers": [
            {"name": "Zhou Gang", "id_last4": "123X", "trade": "tiler"},
            {"name": "Wu Bin", "id_last4": "4567", "trade": "electrician"},
        ],
        "works_from": today().isoformat(),
        "works_to": (today() + timedelta(days=30)).isoformat(),
        "work_hours": {"start": "08:30", "end": "17:30"},
    } | changes


def engineer(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("worker",), department="engineering", subject="eng.harbour")


def manager(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("manager",), subject="manager.harbour")


def security(runtime: Runtime) -> dict[str, str]:
    return auth(runtime, roles=("security",), subject="guard.harbour")


def owner(runtime: Runtime, party_id: str = "harbour-A-0101-owner") -> dict[str, str]:
    return {
        "Authorization": "Bearer " + mint_token(runtime.settings, party_id, ["owner"], ["harbour"], party_id=party_id)
    }


async def apply(client: httpx.AsyncClient, runtime: Runtime, **changes: Any) -> dict[str, Any]:
    response = await client.post("/decoration-permits", json=application(**changes), headers=auth(runtime))
    assert response.status_code == 201, response.text
    return response.json()


async def upload(
    client: httpx.AsyncClient,
    runtime: Runtime,
    permit_id: str,
    purpose: str = "plan",
    content: bytes = PDF,
    headers=None,
) -> httpx.Response:
    return await client.post(
        f"/decoration-permits/{permit_id}/files",
        data={"purpose": purpose},
        files={"file": ("plan.pdf", content, "application/pdf")},
        headers=headers or auth(runtime),
    )


def checked(ok: bool = True) -> list[dict[str, Any]]:
    return [{"code": code, "ok": ok, "note": f"{code} checked"} for code in CHECKLIST]


async def approved(client: httpx.AsyncClient, runtime: Runtime, conditions: list[str] | None = None) -> dict[str, Any]:
    permit = await apply(client, runtime)
    assert (await upload(client, runtime, permit["id"])).status_code == 201
    body: dict[str, Any] = {"result": "approve", "checklist": checked()}
    if conditions:
        body = {"result": "approve_with_conditions", "checklist": checked(), "conditions": conditions}
    response = await client.post(f"/decoration-permits/{permit['id']}/review", json=body, headers=engineer(runtime))
    assert response.status_code == 200, response.text
    return response.json()


async def post(client: httpx.AsyncClient, headers: dict[str, str], path: str, body: Any = None) -> httpx.Response:
    return await client.post(path, json=body if body is not None else {}, headers=headers)


async def permit_of(client: httpx.AsyncClient, runtime: Runtime, permit_id: str) -> dict[str, Any]:
    response = await client.get(f"/decoration-permits/{permit_id}", headers=auth(runtime))
    assert response.status_code == 200, response.text
    return response.json()


async def deposit(runtime: Runtime, permit_id: str, status: str) -> None:
    event = envelope(runtime, "billing.deposit.held.v1", {"reference": permit_id, "status": status})
    assert await deliver(runtime, event) == "handled"


async def inspected(runtime: Runtime, permit_id: str, inspection_id: str, failed: list[str] | None = None) -> None:
    items = [{"code": code, "ok": code not in (failed or []), "note": None} for code in CHECKLIST]
    event = envelope(
        runtime,
        "dispatch.inspection.completed.v1",
        {
            "permit_id": permit_id,
            "inspection_id": inspection_id,
            "result": "violation" if failed else "passed",
            "items": items,
        },
    )
    assert await deliver(runtime, event) == "handled"


async def last_inspection(runtime: Runtime, kind: str) -> dict[str, Any]:
    requested = [e["data"] for e in await events(runtime, "intake.decoration.inspection_requested.v1")]
    return [d for d in requested if d["kind"] == kind][-1]


# --- the whole way, application to the deposit's return -------------------------------------------


async def test_a_permit_from_application_to_the_deposits_return(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)
    permit = await apply(client, runtime)
    pid = permit["id"]
    assert permit["status"] == "applied" and permit["allowed_actions"] == sorted(TRANSITIONS[Status.applied])
    assert (await upload(client, runtime, pid)).status_code == 201

    # Engineering picks it up and approves it with a condition: billing and notification are told.
    assert (await post(client, engineer(runtime), f"/decoration-permits/{pid}/start-review")).json()[
        "status"
    ] == "under_review"
    review = {"result": "approve_with_conditions", "checklist": checked(), "conditions": ["No work on the balcony"]}
    reviewed = await post(client, engineer(runtime), f"/decoration-permits/{pid}/review", review)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "approved"
    [approval] = [e["data"] for e in await events(runtime, "intake.decoration.approved.v1")]
    assert approval["deposit_cents"] == 200_000
    assert approval["fee_cents"] == 26_850  # 3.00 per m2 of 89.50 m2
    assert approval["conditions"] == ["No work on the balcony"]
    assert approval["neighbour_unit_ids"] == ["harbour-A-0102"]  # same floor; A-1201 is 11 floors up
    assert approval["work_hours"] == {"start": "08:30", "end": "17:30"}

    # Works wait for the deposit: 409 until billing says it is paid.
    assert (await post(client, agent, f"/decoration-permits/{pid}/start-works")).status_code == 409
    await deposit(runtime, pid, "requested")
    assert (await permit_of(client, runtime, pid))["deposit_status"] == "requested"
    assert (await post(client, agent, f"/decoration-permits/{pid}/start-works")).status_code == 409
    await deposit(runtime, pid, "paid")
    started = await post(client, agent, f"/decoration-permits/{pid}/start-works")
    assert started.status_code == 200 and started.json()["status"] == "in_works"

    # The workers' passes are valid at the gate now.
    passes = (await permit_of(client, runtime, pid))["passes"]
    assert sorted(p["name"] for p in passes) == ["Wu Bin", "Zhou Gang"]
    check = await client.get(f"/decoration-passes/{passes[0]['number']}", headers=security(runtime))
    assert check.status_code == 200 and check.json()["valid"] is True

    # A routine inspection finds a violation; the desk records another with a photo, a stop order and a fine.
    assert (await post(client, agent, f"/decoration-permits/{pid}/inspections", {"kind": "routine"})).status_code == 201
    routine = await last_inspection(runtime, "routine")
    assert [item["code"] for item in routine["checklist"]] == CHECKLIST
    await inspected(runtime, pid, routine["inspection_id"], failed=["wiring"])
    photo = (await upload(client, runtime, pid, "photo", PNG)).json()["key"]
    violation = {
        "description": "Noisy drilling at 21:00",
        "photos": [photo],
        "stop_order": True,
        "fine_cents": 50_000,
        "fine_reason": "Noisy work outside the permitted hours",
    }
    assert (await post(client, agent, f"/decoration-permits/{pid}/violations", violation)).status_code == 201
    stopped = await permit_of(client, runtime, pid)
    assert stopped["status"] == "stopped" and len(stopped["violations"]) == 2
    assert (await client.get(f"/decoration-passes/{passes[0]['number']}", headers=security(runtime))).json()[
        "valid"
    ] is False

    # Resuming needs a passed re-check (or a manager's decision).
    assert (await post(client, agent, f"/decoration-permits/{pid}/resume", {"reason": "fixed"})).status_code == 409
    assert (await post(client, agent, f"/decoration-permits/{pid}/inspections", {"kind": "recheck"})).status_code == 201
    await inspected(runtime, pid, (await last_inspection(runtime, "recheck"))["inspection_id"])
    assert (await post(client, agent, f"/decoration-permits/{pid}/resume", {})).json()["status"] == "in_works"

    # A neighbour's complaint is linked to the permit.
    complaint = await client.post(
        "/requests",
        json={
            **REPAIR,
            "kind": "complaint",
            "category": "noise",
            "unit_id": "harbour-A-0102",
            "in_unit": False,
            "description": "Drilling upstairs at night",
            "reporter": {"name": "Wang Fang"},
        },
        headers=agent,
    )
    linked = await post(client, agent, f"/decoration-permits/{pid}/complaints", {"request_id": complaint.json()["id"]})
    assert linked.status_code == 200 and linked.json()["complaints"][0]["request_id"] == complaint.json()["id"]

    # The owner asks for the completion inspection; it fails once (back to the works), then passes.
    assert (await post(client, owner(runtime), f"/decoration-permits/{pid}/completion")).json()[
        "status"
    ] == "completion_requested"
    await inspected(runtime, pid, (await last_inspection(runtime, "completion"))["inspection_id"], failed=["wet_areas"])
    failed = await permit_of(client, runtime, pid)
    assert failed["status"] == "in_works"
    assert any(v["description"].startswith("wet_areas") for v in failed["violations"])
    assert (await post(client, owner(runtime), f"/decoration-permits/{pid}/completion")).status_code == 200
    await inspected(runtime, pid, (await last_inspection(runtime, "completion"))["inspection_id"])
    assert (await permit_of(client, runtime, pid))["status"] == "completed"

    # Settlement: the fine recorded, plus damage, each with its reason; billing returns the rest and it closes.
    damage = {"deductions": [{"kind": "damage", "reason": "Scratched lift door", "amount_cents": 30_000}]}
    settled = await post(client, agent, f"/decoration-permits/{pid}/settlement", damage)
    assert settled.status_code == 200 and settled.json()["status"] == "settled"
    [settlement] = [e["data"] for e in await events(runtime, "intake.decoration.settled.v1")]
    assert [(d["kind"], d["amount_cents"]) for d in settlement["deductions"]] == [("fine", 50_000), ("damage", 30_000)]
    returned = envelope(
        runtime,
        "billing.deposit.returned.v1",
        {
            "reference": pid,
            "held_cents": 200_000,
            "deducted_cents": 80_000,
            "returned_cents": 120_000,
            "deductions": settlement["deductions"],
        },
    )
    assert await deliver(runtime, returned) == "handled"
    closed = await permit_of(client, runtime, pid)
    assert closed["status"] == "closed" and closed["returned_cents"] == 120_000 and closed["allowed_actions"] == []

    # Every step is a status change event and a line of the permit's (and the unit's) timeline.
    changes = [e["data"]["action"] for e in await events(runtime, "intake.decoration.status_changed.v1")]
    assert changes == [
        "apply", "start_review", "approve_with_conditions", "start_works", "stop", "resume", "request_completion",
        "fail_completion", "request_completion", "pass_completion", "settle", "close",
    ]  # fmt: skip
    timeline = (await client.get(f"/decoration-permits/{pid}/timeline", headers=agent)).json()
    kinds = [entry["event_type"] for entry in timeline]
    assert kinds[0] == "intake.decoration.status_changed.v1" and kinds[-1] == "intake.decoration.status_changed.v1"
    assert "billing.deposit.held.v1" in kinds and "dispatch.inspection.completed.v1" in kinds
    assert "decoration.violation" in kinds and "decoration.complaint" in kinds
    assert "deposit returned: 1200.00 CNY of 2000.00 CNY" in timeline[-1]["summary"]
    unit = (await client.get("/units/harbour-A-0101/timeline", headers=agent)).json()
    assert {entry["procedure_id"] for entry in unit} == {pid}


# --- illegal moves --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("start-works", {}),
        ("completion", {}),
        ("settlement", {}),
        ("resume", {"reason": "x"}),
    ],
)
async def test_an_illegal_move_answers_409_and_changes_nothing(intake, path, body) -> None:
    runtime, client = intake
    permit = await apply(client, runtime)
    before = await permit_of(client, runtime, permit["id"])
    rows = len(await outbox_rows(runtime))
    response = await client.post(f"/decoration-permits/{permit['id']}/{path}", json=body, headers=auth(runtime))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["current_status"] == "applied"
    assert response.json()["allowed_actions"] == sorted(TRANSITIONS[Status.applied])
    assert await permit_of(client, runtime, permit["id"]) == before
    assert len(await outbox_rows(runtime)) == rows


async def test_a_reviewed_permit_cannot_be_reviewed_again_nor_a_rejected_one_started(intake) -> None:
    runtime, client = intake
    permit = await approved(client, runtime)
    again = await post(
        client,
        engineer(runtime),
        f"/decoration-permits/{permit['id']}/review",
        {"result": "reject", "checklist": checked(), "reasons": ["x"]},
    )
    assert again.status_code == 409 and "approved" in again.json()["detail"]
    rejected = await apply(client, runtime)
    body = {"result": "reject", "checklist": checked(False), "reasons": ["Removes a load-bearing wall"]}
    assert (await post(client, engineer(runtime), f"/decoration-permits/{rejected['id']}/review", body)).json()[
        "status"
    ] == "rejected"
    assert (await post(client, auth(runtime), f"/decoration-permits/{rejected['id']}/withdraw")).status_code == 409
    assert await events(runtime, "intake.decoration.approved.v1") != []  # the first one only
    assert len(await events(runtime, "intake.decoration.approved.v1")) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"result": "approve_with_conditions", "checklist": checked()}, "conditions"),
        ({"result": "reject", "checklist": checked()}, "reasons"),
        ({"result": "approve", "checklist": checked()[:3]}, "checklist"),
    ],
)
async def test_a_review_names_what_it_misses(intake, body, field) -> None:
    runtime, client = intake
    permit = await apply(client, runtime)
    await upload(client, runtime, permit["id"])
    response = await post(client, engineer(runtime), f"/decoration-permits/{permit['id']}/review", body)
    assert response.status_code == 422 and response.json()["field"] == field
    assert (await permit_of(client, runtime, permit["id"]))["status"] == "applied"


async def test_only_engineering_reviews_and_a_plan_and_the_owners_authority_are_needed(intake) -> None:
    runtime, client = intake
    permit = await apply(client, runtime, applicant="contractor")
    pid = permit["id"]
    body = {"result": "approve", "checklist": checked()}
    cleaner = auth(runtime, roles=("worker",), department="cleaning", subject="clean.1")
    assert (await post(client, cleaner, f"/decoration-permits/{pid}/review", body)).status_code == 403
    assert (await post(client, auth(runtime), f"/decoration-permits/{pid}/review", body)).status_code == 403
    no_plan = await post(client, engineer(runtime), f"/decoration-permits/{pid}/review", body)
    assert no_plan.status_code == 422 and no_plan.json()["field"] == "plans"
    await upload(client, runtime, pid)
    no_authority = await post(client, engineer(runtime), f"/decoration-permits/{pid}/review", body)
    assert no_authority.status_code == 422 and no_authority.json()["field"] == "authorisation"
    await upload(client, runtime, pid, "authorisation")
    assert (await post(client, manager(runtime), f"/decoration-permits/{pid}/review", body)).status_code == 200


async def test_a_manager_lifts_a_stop_order_with_a_reason_and_only_complaints_are_linked(intake) -> None:
    runtime, client = intake
    permit = await approved(client, runtime)
    pid = permit["id"]
    await deposit(runtime, pid, "paid")
    await post(client, auth(runtime), f"/decoration-permits/{pid}/start-works")
    stop = {"description": "Wall chased without a permit", "stop_order": True}
    assert (await post(client, auth(runtime), f"/decoration-permits/{pid}/violations", stop)).status_code == 201
    # Stopped: a second stop order is illegal; the desk cannot resume without a passed re-check.
    assert (await post(client, auth(runtime), f"/decoration-permits/{pid}/violations", stop)).status_code == 409
    assert (await post(client, auth(runtime), f"/decoration-permits/{pid}/resume", {"reason": "ok"})).status_code == 409
    no_reason = await post(client, manager(runtime), f"/decoration-permits/{pid}/resume")
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    resumed = await post(client, manager(runtime), f"/decoration-permits/{pid}/resume", {"reason": "Wall restored"})
    assert resumed.status_code == 200 and resumed.json()["status"] == "in_works"
    repair = await client.post("/requests", json=REPAIR, headers=auth(runtime))
    not_a_complaint = await post(
        client, auth(runtime), f"/decoration-permits/{pid}/complaints", {"request_id": repair.json()["id"]}
    )
    assert not_a_complaint.status_code == 422 and not_a_complaint.json()["field"] == "request_id"
    unknown_photo = {"description": "Debris in the corridor", "photos": ["decoration/harbour/" + "0" * 32 + ".png"]}
    refused = await post(client, auth(runtime), f"/decoration-permits/{pid}/violations", unknown_photo)
    assert refused.status_code == 422 and refused.json()["field"] == "photos"


# --- the application's input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"works_to": (today() - timedelta(days=1)).isoformat()}, "works_to"),
        ({"works_from": (today() - timedelta(days=2)).isoformat()}, "works_from"),
        ({"works_to": (today() + timedelta(days=200)).isoformat()}, "works_to"),
        ({"work_hours": {"start": "07:00", "end": "12:00"}}, "work_hours"),
        ({"work_hours": {"start": "12:00", "end": "09:00"}}, "work_hours"),
        ({"workers": [{"name": f"W{i}", "id_last4": "1234", "trade": "labourer"} for i in range(21)]}, "workers"),
        ({"party_id": "harbour-A-0102-owner"}, "party_id"),
        ({"unit_id": "harbour-Z-9999"}, "unit_id"),
        ({"contractor": {"company": "X", "licence_number": "1", "manager_name": "Y", "manager_phone": "call"}},
         "contractor.manager_phone"),
        ({"scope": []}, "scope"),
    ],
)  # fmt: skip
async def test_bad_applications_answer_problem_json_naming_the_field(intake, changes, field) -> None:
    runtime, client = intake
    response = await client.post("/decoration-permits", json=application(**changes), headers=auth(runtime))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == field
    assert await outbox_rows(runtime) == []


# --- the review's time limit on the working calendar ----------------------------------------------


async def test_the_review_limit_warns_and_breaches_on_the_sites_working_days(intake) -> None:
    runtime, client = intake
    permit = await apply(client, runtime)
    due = datetime.fromisoformat(permit["review_due_at"])
    created = datetime.fromisoformat(permit["created_at"])
    expected = add_working_days(created, 2, Calendar(holidays=frozenset(HOLIDAYS), workdays=frozenset(MAKEUP)), TZ)
    assert due == expected and due - created >= timedelta(days=2)
    reviewed = await approved(client, runtime)  # reviewed in time: its timers never fire
    await clear_outbox(runtime)

    assert await fire_due(runtime, timers, now=due - timedelta(hours=5)) == 0
    assert await fire_due(runtime, timers, now=due - timedelta(hours=3)) == 1
    warned = await permit_of(client, runtime, permit["id"])
    assert warned["review_warned"] is True and warned["review_breached"] is False
    assert await fire_due(runtime, timers, now=due + timedelta(minutes=1)) == 1
    assert await fire_due(runtime, timers, now=due + timedelta(days=10)) == 0  # the reviewed one's were cancelled
    breached = await permit_of(client, runtime, permit["id"])
    assert breached["review_breached"] is True
    timeline = (await client.get(f"/decoration-permits/{permit['id']}/timeline", headers=auth(runtime))).json()
    assert [e["event_type"] for e in timeline][-2:] == ["decoration.review_warning", "decoration.review_breach"]
    overdue = (await client.get("/decoration-permits", params={"overdue": "true"}, headers=auth(runtime))).json()
    assert [p["id"] for p in overdue["items"]] == [permit["id"]]
    assert (await permit_of(client, runtime, reviewed["id"]))["review_breached"] is False
    metrics = (await client.get("/metrics")).text
    assert 'pm_intake_decoration_review_breached{site="harbour"} 1.0' in metrics


TZ = "Asia/Shanghai"
HOLIDAYS = [date(2026, 12, 25), date(2027, 1, 1)] + [date(2027, 2, d) for d in range(16, 23)]
MAKEUP = [date(2027, 2, 14), date(2027, 2, 27)]


async def test_managers_edit_the_sites_settings_and_the_calendar_moves_the_limit(intake) -> None:
    runtime, client = intake
    current = (await client.get("/sites/harbour/decoration-settings", headers=auth(runtime))).json()
    assert current["deposit_cents"] == 200_000 and [c["code"] for c in current["checklist"]] == CHECKLIST
    change = {k: v for k, v in current.items() if k != "site"} | {
        "weekdays_off": [],
        "holidays": [],
        "workdays": [],
        "fee_mode": "fixed",
        "fee_cents": 100_000,
    }
    assert (
        await client.put("/sites/harbour/decoration-settings", json=change, headers=auth(runtime))
    ).status_code == 403
    bad = await client.put(
        "/sites/harbour/decoration-settings", json=change | {"work_end": "07:00"}, headers=manager(runtime)
    )
    assert bad.status_code == 422
    saved = await client.put("/sites/harbour/decoration-settings", json=change, headers=manager(runtime))
    assert saved.status_code == 200 and saved.json()["fee_mode"] == "fixed"
    permit = await apply(client, runtime)
    # Every day a working day: exactly two days.
    assert datetime.fromisoformat(permit["review_due_at"]) - datetime.fromisoformat(permit["created_at"]) == timedelta(
        days=2
    )
    riverside = manager(runtime) | {}
    assert (await client.get("/sites/riverside/decoration-settings", headers=riverside)).status_code == 403


# --- files ----------------------------------------------------------------------------------------


async def test_files_are_checked_kept_and_served_back_in_scope(intake) -> None:
    runtime, client = intake
    permit = await apply(client, runtime)
    pid = permit["id"]
    stored = await upload(client, runtime, pid, headers=owner(runtime))
    assert stored.status_code == 201, stored.text
    name = stored.json()["file_name"]
    fetched = await client.get(f"/decoration-permits/{pid}/files/{name}", headers=auth(runtime))
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert (await client.get(f"/decoration-permits/{pid}/files/{name}", headers=owner(runtime))).status_code == 200
    # Another owner, another site, and a name of no file of this permit.
    other = owner(runtime, "harbour-A-0102-owner")
    assert (await client.get(f"/decoration-permits/{pid}/files/{name}", headers=other)).status_code == 403
    riverside = auth(runtime, sites=("riverside",))
    assert (await client.get(f"/decoration-permits/{pid}/files/{name}", headers=riverside)).status_code == 403
    assert (
        await client.get(f"/decoration-permits/{pid}/files/{'0' * 32}.pdf", headers=auth(runtime))
    ).status_code == 404

    too_large = await upload(client, runtime, pid, content=b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert too_large.status_code == 413 and too_large.json()["field"] == "file"
    not_a_plan = await upload(client, runtime, pid, content=b"MZ\x90\x00 not a pdf")
    assert not_a_plan.status_code == 422 and not_a_plan.json()["field"] == "file"
    assert (await upload(client, runtime, pid, "photo", PNG, headers=owner(runtime))).status_code == 403
    detail = await permit_of(client, runtime, pid)
    assert [f["purpose"] for f in detail["files"]] == ["plan"]


# --- the agreement, passes and who sees what ------------------------------------------------------


async def test_the_agreement_prints_in_chinese_or_english_with_the_conditions(intake) -> None:
    runtime, client = intake
    permit = await approved(client, runtime, conditions=["No work on the balcony <b>ever</b>"])
    path = f"/decoration-permits/{permit['id']}/agreement"
    chinese = await client.get(path, headers=auth(runtime))
    assert chinese.status_code == 200 and chinese.headers["content-type"].startswith("text/html")
    assert "装修管理协议" in chinese.text and "¥2,000.00" in chinese.text and "¥268.50" in chinese.text
    assert "No work on the balcony &lt;b&gt;ever&lt;/b&gt;" in chinese.text and "<b>ever" not in chinese.text
    assert "08:30-17:30" in chinese.text and permit["works_to"] in chinese.text and "乙方(业主)签字" in chinese.text
    english = await client.get(path, headers=auth(runtime) | {"Accept-Language": "en-US,en;q=0.9"})
    assert "Decoration Management Agreement" in english.text and "Party B (owner), signature" in english.text
    assert (
        "Decoration Management Agreement" in (await client.get(path, params={"lang": "en"}, headers=auth(runtime))).text
    )
    assert (await client.get(path, headers=owner(runtime))).status_code == 200
    assert (await client.get(path, headers=owner(runtime, "harbour-A-0102-owner"))).status_code == 403
    passes = await client.get(f"/decoration-permits/{permit['id']}/passes", headers=auth(runtime))
    assert passes.status_code == 200 and "装修施工人员出入证" in passes.text and "Zhou Gang" in passes.text


async def test_security_checks_a_pass_and_sees_nothing_else(intake) -> None:
    runtime, client = intake
    permit = await approved(client, runtime)
    [first, second] = (await permit_of(client, runtime, permit["id"]))["passes"]
    guard = security(runtime)
    check = await client.get(f"/decoration-passes/{first['number']}", headers=guard)
    assert check.status_code == 200
    assert check.json() == {
        "number": first["number"],
        "valid": False,  # approved, but the deposit is not paid and the works have not started
        "why_not": "no works under way",
        "unit": "A-0101",
        "name": first["name"],
        "valid_from": permit["works_from"],
        "valid_to": permit["works_to"],
    }
    await deposit(runtime, permit["id"], "paid")
    await post(client, auth(runtime), f"/decoration-permits/{permit['id']}/start-works")
    assert (await client.get(f"/decoration-passes/{first['number']}", headers=guard)).json()["valid"] is True
    revoked = await post(client, auth(runtime), f"/decoration-passes/{second['number']}/revoke", {"reason": "Left"})
    assert revoked.status_code == 200
    assert (await client.get(f"/decoration-passes/{second['number']}", headers=guard)).json()["why_not"] == "revoked"
    assert (
        await post(client, auth(runtime), f"/decoration-passes/{second['number']}/revoke", {"reason": "x"})
    ).status_code == 409
    assert (await client.get("/decoration-passes/DP-NOSUCHPASS", headers=guard)).status_code == 404
    # Security reads no permit, list or agreement; an owner checks no passes.
    assert (await client.get(f"/decoration-permits/{permit['id']}", headers=guard)).status_code == 403
    assert (await client.get("/decoration-permits", headers=guard)).status_code == 403
    assert (await client.get(f"/decoration-passes/{first['number']}", headers=owner(runtime))).status_code == 403
    riverside_guard = auth(runtime, roles=("security",), sites=("riverside",))
    assert (await client.get(f"/decoration-passes/{first['number']}", headers=riverside_guard)).status_code == 403


async def test_owners_apply_for_and_see_only_their_own_permits(intake) -> None:
    runtime, client = intake
    li = owner(runtime)
    own = await client.post("/decoration-permits", json=application(party_id=None), headers=li)
    assert own.status_code == 201, own.text
    assert own.json()["applicant_party_id"] == "harbour-A-0101-owner"
    not_theirs = await client.post(
        "/decoration-permits", json=application(unit_id="harbour-A-0102", party_id=None), headers=li
    )
    assert not_theirs.status_code == 403 and not_theirs.json()["field"] == "unit_id"
    staff = await apply(client, runtime, unit_id="harbour-A-0102", party_id="harbour-A-0102-owner")
    mine = (await client.get("/decoration-permits", headers=li)).json()
    assert [p["id"] for p in mine["items"]] == [own.json()["id"]]
    assert (await client.get(f"/decoration-permits/{staff['id']}", headers=li)).status_code == 403
    assert (await client.get(f"/decoration-permits/{staff['id']}/timeline", headers=li)).status_code == 403
    # Owners do not review, start works or settle; a worker sees the contractor's phone masked.
    assert (await post(client, li, f"/decoration-permits/{own.json()['id']}/start-works")).status_code == 403
    seen = (await client.get(f"/decoration-permits/{own.json()['id']}", headers=engineer(runtime))).json()
    assert seen["contractor"]["manager_phone"] == "139****5678"
    listing = (
        await client.get(
            "/decoration-permits", params={"status": "applied", "unit_id": "harbour-A-0102"}, headers=auth(runtime)
        )
    ).json()
    assert [p["id"] for p in listing["items"]] == [staff["id"]]
    withdrawn = await post(client, li, f"/decoration-permits/{own.json()['id']}/withdraw", {"reason": "Postponed"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


async def test_events_of_other_deposits_and_unknown_permits_change_nothing(intake) -> None:
    runtime, client = intake
    permit = await approved(client, runtime)
    tenancy = envelope(runtime, "billing.deposit.held.v1", {"reference": permit["id"], "purpose": "tenancy"})
    assert await deliver(runtime, tenancy) == "handled"
    unknown = envelope(runtime, "dispatch.inspection.completed.v1", {"permit_id": "no-such-permit"})
    assert await deliver(runtime, unknown) == "handled"
    assert (await permit_of(client, runtime, permit["id"]))["deposit_status"] == "none"
    # A late "requested" after the payment keeps it paid; a duplicate delivery is ignored.
    paid = envelope(runtime, "billing.deposit.held.v1", {"reference": permit["id"], "status": "paid"})
    assert await deliver(runtime, paid) == "handled"
    assert await deliver(runtime, paid) == "duplicate"
    await deposit(runtime, permit["id"], "requested")
    assert (await permit_of(client, runtime, permit["id"]))["deposit_status"] == "paid"
    assert json.loads((await outbox_rows(runtime))[-1]["payload"])["type"] != "billing.deposit.held.v1"


# --- over a real nats-server ----------------------------------------------------------------------


async def test_billings_and_dispatchs_events_reach_the_permit_over_a_real_nats_server(
    database_urls: dict[str, str], nats_server: NatsServer, tmp_path: Path
) -> None:
    await provision(nats_server.url)
    settings = Settings(
        service="intake",
        var_dir=tmp_path,
        database_url=database_urls["intake"],
        nats_url=nats_server.url,
        relay_idle_seconds=0.05,
        consumer_retry_base_seconds=0.2,
    )
    await asyncio.to_thread(migrations.upgrade, "intake", settings)
    runtime = new_runtime(settings)
    await seed(runtime)
    await runtime.start()
    nc = await bus.connect(nats_server.url, "test-billing-and-dispatch")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t") as client:
            permit = await approved(client, runtime)
            pid = permit["id"]

            async def relayed() -> bool:  # the approval left through the outbox onto intake's stream
                rows = await outbox_rows(runtime)
                return bool(rows) and all(row["status"] == "published" for row in rows)

            await eventually(relayed)
            js = nc.jetstream()
            # Billing's and dispatch's events as they publish them: on their streams, deduplicated by event id.
            paid = envelope(runtime, "billing.deposit.held.v1", {"reference": pid, "status": "paid"})
            await js.publish("billing.deposit.held.v1.harbour", paid.to_json(), headers={"Nats-Msg-Id": paid.id})

            async def status(expected: str, field: str = "status") -> bool:
                return (await permit_of(client, runtime, pid))[field] == expected

            await eventually(lambda: status("paid", "deposit_status"))
            assert (await post(client, auth(runtime), f"/decoration-permits/{pid}/start-works")).status_code == 200
            assert (await post(client, owner(runtime), f"/decoration-permits/{pid}/completion")).status_code == 200
            completion = await last_inspection(runtime, "completion")
            items = [{"code": code, "ok": True} for code in CHECKLIST]
            passed = envelope(
                runtime,
                "dispatch.inspection.completed.v1",
                {"permit_id": pid, "inspection_id": completion["inspection_id"], "result": "passed", "items": items},
            )
            subject = "dispatch.inspection.completed.v1.harbour"
            await js.publish(subject, passed.to_json(), headers={"Nats-Msg-Id": passed.id})
            await eventually(lambda: status("completed"))
    finally:
        await nc.close()
        await runtime.stop()
        await runtime.engine.dispose()


# --- pure rules -----------------------------------------------------------------------------------


@pytest.mark.unit
def test_the_transitions_table_covers_every_status_and_action() -> None:
    assert set(TRANSITIONS) == set(Status)
    reachable = {target for moves in TRANSITIONS.values() for target in moves.values()}
    assert reachable | {Status.applied} == set(Status)
    assert {action for moves in TRANSITIONS.values() for action in moves} == set(Action) - {Action.apply}
    for terminal in (Status.rejected, Status.withdrawn, Status.closed):
        assert TRANSITIONS[terminal] == {}
    assert next_status(Status.approved, Action.start_works) is Status.in_works
    assert next_status(Status.completion_requested, Action.fail_completion) is Status.in_works
    with pytest.raises(Conflict) as refused:
        next_status(Status.in_works, Action.settle)
    assert refused.value.extra["allowed_actions"] == ["request_completion", "stop"]


def _at(day: str, hhmm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=ZoneInfo(TZ))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (_at("2026-12-02"), 2, _at("2026-12-04")),  # Wednesday -> Friday
        (_at("2026-12-03", "15:30"), 2, _at("2026-12-07", "15:30")),  # Thursday -> over the weekend to Monday
        (_at("2026-12-05", "11:00"), 2, _at("2026-12-09", "00:00")),  # Saturday: counts from Monday 00:00
        (_at("2026-12-24"), 1, _at("2026-12-28")),  # Thursday, Christmas (a holiday here) and the weekend skipped
        (_at("2026-12-25", "09:00"), 2, _at("2026-12-30", "00:00")),  # a start on a holiday
        (_at("2027-02-12"), 1, _at("2027-02-14")),  # Friday -> the make-up Sunday
        (_at("2027-02-14"), 1, _at("2027-02-15")),  # a start on the make-up Sunday counts as worked
        (_at("2027-02-15"), 2, _at("2027-02-24")),  # the Spring Festival week
        (_at("2027-02-26"), 1, _at("2027-02-27")),  # Friday -> the make-up Saturday
    ],
)
def test_adding_working_days_on_the_sites_calendar(start: datetime, days: int, due: datetime) -> None:
    calendar = Calendar(holidays=frozenset(HOLIDAYS), workdays=frozenset(MAKEUP))
    assert add_working_days(start, days, calendar, TZ) == due.astimezone(UTC)


@pytest.mark.unit
def test_working_days_count_in_site_local_time() -> None:
    # 2026-12-04 17:00 UTC is Saturday 01:00 in Shanghai: the count starts on Monday, not on Friday.
    start = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
    assert add_working_days(start, 1, Calendar(), TZ) == _at("2026-12-08", "00:00").astimezone(UTC)
    # The same instant in UTC's own calendar is still Friday.
    assert add_working_days(start, 1, Calendar(), "UTC") == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        Calendar(weekdays_off=frozenset(range(1, 8))).next_working_day(date(2026, 12, 2))


@pytest.mark.unit
def test_the_neighbours_are_the_same_floor_and_the_floors_above_and_below_in_the_same_building() -> None:
    units = [
        Place("A-0301", "A", 3),
        Place("A-0302", "A", 3),
        Place("A-0201", "A", 2),
        Place("A-0401", "A", 4),
        Place("A-0501", "A", 5),
        Place("A-0101", "A", 1),
        Place("B-0301", "B", 3),
    ]
    assert neighbours(units[0], units) == ["A-0201", "A-0302", "A-0401"]
    assert neighbours(Place("A-0101", "A", 1), units) == ["A-0201"]
    assert neighbours(Place("C-0101", "C", 1), units) == []


@pytest.mark.unit
def test_the_fee_and_the_work_hours() -> None:
    assert fee("fixed", 150_000, Decimal("310.00")) == 150_000
    assert fee("per_m2", 300, Decimal("89.50")) == 26_850
    assert fee("per_m2", 333, Decimal("10.05")) == 3_347  # 3346.65 rounds half up
    assert within(("08:30", "17:30"), ("08:00", "18:00"))
    assert not within(("07:30", "17:30"), ("08:00", "18:00"))
    assert not within(("08:00", "18:30"), ("08:00", "18:00"))
