"""intake.request: recording requests, the state machine, time limits as durable timers, duplicates, timelines,
replies and classification, and the events of other services that move a request; every interleaving of the
two streams that finish a request converges (on SQLite and PostgreSQL, no NATS).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from intake.main import create
from intake.request.handlers import timers
from intake.request.models import OPEN, REPLY_SETTLED, TRANSITIONS, Request, Status, StatusChange, can_transition
from pm_platform.auth import mint_token
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.timers import fire_due
from tests.services.intake import helpers as base
from tests.services.intake.helpers import (
    REPAIR,
    auth,
    clear_outbox,
    deliver,
    detail,
    envelope,
    events,
    move,
    new_runtime,
    outbox_rows,
    post,
)

# --- recording ------------------------------------------------------------------------------------


async def test_posting_a_request_commits_it_with_its_event_in_the_outbox(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    assert created["status"] == "new"
    [row] = await outbox_rows(runtime)
    assert row["subject"] == "intake.request.created.v1.harbour"
    assert row["status"] == "pending"
    event = json.loads(row["payload"])
    assert event["data"]["request_id"] == created["id"] == event["correlationid"]
    assert event["data"]["building"] == "A"
    runtime.catalog.parse(event)  # what left is what the contract says

    detail_ = await detail(client, runtime, created["id"])
    assert [entry["event_type"] for entry in detail_["timeline"]] == ["intake.request.created.v1"]
    listing = (await client.get("/requests", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == created["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "wish"}, "kind"),
        ({"category": "Water Leak"}, "category"),
        ({"category": "plumbing"}, "category"),  # well-formed, but not in the site's taxonomy
        ({"reporter": {"name": ""}}, "reporter.name"),
        ({"reporter": {"name": "x", "phone": "call me"}}, "reporter.phone"),
        ({"site": "har.bour"}, "site"),
        ({"appointment": {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"}}, "appointment"),
        ({"photos": ["has space"]}, "photos"),
        ({"complaint_class": "venting"}, "complaint_class"),  # only for complaints
        ({"building": "B"}, "building"),  # not the unit's building
    ],
)
async def test_bad_input_answers_422_problem_json_naming_the_field(intake, change, field) -> None:
    runtime, client = intake
    response = await client.post("/requests", json={**REPAIR, **change}, headers=auth(runtime))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == field
    assert await outbox_rows(runtime) == []


async def test_a_unit_of_another_site_is_rejected_and_nothing_is_written(intake) -> None:
    runtime, client = intake
    response = await client.post("/requests", json={**REPAIR, "unit_id": "riverside-T1-1501"}, headers=auth(runtime))
    assert response.status_code == 422
    assert response.json()["field"] == "unit_id"
    assert await outbox_rows(runtime) == []


async def test_site_scope_and_roles_are_enforced(intake) -> None:
    runtime, client = intake
    response = await client.post(
        "/requests", json={**REPAIR, "site": "riverside", "unit_id": "riverside-T1-1501"}, headers=auth(runtime)
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    worker = auth(runtime, roles=("worker",), department="engineering")
    assert (await client.post("/requests", json=REPAIR, headers=worker)).status_code == 403
    assert (await client.get("/requests", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403
    assert (await client.get("/requests")).status_code == 401
    riverside = await client.post(
        "/requests",
        headers=auth(runtime, sites=("riverside",)),
        json={**REPAIR, "site": "riverside", "unit_id": "riverside-T1-1501", "reporter": {"name": "Zhao Lei"}},
    )
    assert riverside.status_code == 201
    rid = riverside.json()["id"]
    # A harbour agent neither sees nor moves a riverside request, nor reads its archive or callers.
    assert (await client.get(f"/requests/{rid}", headers=auth(runtime))).status_code == 403
    assert (await move(client, runtime, rid, "acknowledged")).status_code == 403
    assert (await client.get("/units/riverside-T1-1501", headers=auth(runtime))).status_code == 403
    assert (await client.get("/units/riverside-T1-1501/timeline", headers=auth(runtime))).status_code == 403
    assert (
        await client.get("/lookup", params={"unit_id": "riverside-T1-1501"}, headers=auth(runtime))
    ).status_code == 404
    assert (
        await client.get("/lookup", params={"site": "riverside", "phone": "13900000011"}, headers=auth(runtime))
    ).status_code == 403
    manager = auth(runtime, roles=("manager",))
    assert (
        await client.post("/sites/riverside/import/units", content=b"code,building,floor,area_m2\n", headers=manager)
    ).status_code == 403
    assert (await client.get("/reports/daily", params={"site": "riverside"}, headers=manager)).status_code == 403
    # Only the front desk lists all of harbour's requests; the riverside one is not among them.
    listing = (await client.get("/requests", headers=auth(runtime))).json()
    assert rid not in [r["id"] for r in listing["items"]]
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    assert (await client.get(f"/requests/{rid}", headers=head_office)).status_code == 200


async def test_department_workers_see_their_own_requests_with_contacts_masked(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    await deliver(
        runtime,
        envelope(runtime, "dispatch.workorder.created.v1", {"request_id": created["id"]}, correlation=created["id"]),
    )
    engineer = auth(runtime, roles=("worker",), department="engineering", subject="eng.harbour")
    seen = await detail(client, runtime, created["id"], headers=engineer)
    assert seen["reporter_phone"] == "138****0001"
    assert all(entry["data"] == {} for entry in seen["timeline"])
    assert "13800000001" not in json.dumps(seen)
    listing = (await client.get("/requests", params={"site": "harbour"}, headers=engineer)).json()
    assert [r["id"] for r in listing["items"]] == [created["id"]]
    assert listing["items"][0]["reporter_phone"] == "138****0001"
    parties = (await client.get("/units/harbour-A-0101/parties", headers=engineer)).json()
    assert parties[0]["phone"] == "138****0001" and parties[0]["email"] is None
    # Another department does not see it; a worker cannot look callers (and their arrears) up.
    cleaner = auth(runtime, roles=("worker",), department="cleaning")
    assert (await client.get(f"/requests/{created['id']}", headers=cleaner)).status_code == 403
    assert (await client.get("/requests", params={"site": "harbour"}, headers=cleaner)).json()["total"] == 0
    assert (await client.get("/lookup", params={"unit_id": "harbour-A-0101"}, headers=engineer)).status_code == 403
    # The front desk sees the full number.
    assert (await detail(client, runtime, created["id"]))["reporter_phone"] == "13800000001"


# --- the state machine ----------------------------------------------------------------------------


async def test_the_request_lifecycle_emits_a_status_change_for_every_step(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    for status in ("acknowledged", "in_progress", "resolved", "followed_up", "closed"):
        response = await move(client, runtime, created["id"], status)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    changes = await events(runtime, "intake.request.status_changed.v1")
    assert [(e["data"]["from_status"], e["data"]["to_status"]) for e in changes] == [
        ("new", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "followed_up"),
        ("followed_up", "closed"),
    ]
    assert all(e["correlationid"] == created["id"] and e["data"]["actor"] == "agent.1" for e in changes)
    final = await detail(client, runtime, created["id"])
    assert final["acknowledged_at"] and final["resolved_at"] and final["closed_at"]
    assert len(final["timeline"]) == 6


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "closed"),
        ([], "followed_up"),
        ([], "reopened"),
        (["acknowledged"], "new"),
        (["in_progress"], "acknowledged"),
        (["resolved"], "in_progress"),
        (["resolved", "closed"], "cancelled"),
        (["cancelled"], "acknowledged"),
        (["cancelled"], "reopened"),
    ],
)
async def test_an_illegal_transition_answers_409_and_changes_nothing(intake, path, illegal) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    for status in path:
        assert (await move(client, runtime, created["id"], status, reason="because")).status_code == 200
    before = await detail(client, runtime, created["id"])
    outbox_before = await outbox_rows(runtime)
    response = await move(client, runtime, created["id"], illegal, reason="because")
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == "status"
    assert await detail(client, runtime, created["id"]) == before
    assert await outbox_rows(runtime) == outbox_before


async def test_cancel_and_reopen_need_a_reason_and_a_reopen_is_escalated(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    response = await move(client, runtime, created["id"], "cancelled")
    assert response.status_code == 422 and response.json()["field"] == "reason"
    assert (await move(client, runtime, created["id"], "bogus")).json()["field"] == "status"
    await move(client, runtime, created["id"], "resolved")
    reopened = await move(client, runtime, created["id"], "reopened", reason="owner called: still leaking")
    assert reopened.status_code == 200
    body = reopened.json()
    assert body["escalated"] is True and body["reopen_count"] == 1 and body["resolved_at"] is None
    [event] = await events(runtime, "intake.request.reopened.v1")
    assert event["data"]["escalated"] is True and event["data"]["reason"] == "owner called: still leaking"


# --- time limits ----------------------------------------------------------------------------------


async def test_time_limits_fire_as_durable_timers_after_a_restart(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    start = utcnow()
    # Harbour's demo configuration: acknowledge within 2 h (warning 30 min before), reply within 24 h.
    assert await fire_due(runtime, timers, now=start + timedelta(minutes=80)) == 0

    # A new process over the same database still has the timers.
    settings = runtime.settings
    await runtime.engine.dispose()
    fresh = new_runtime(settings)
    try:
        assert await fire_due(fresh, timers, now=start + timedelta(minutes=95)) == 1
        assert await fire_due(fresh, timers, now=start + timedelta(minutes=125)) == 1
        assert await fire_due(fresh, timers, now=start + timedelta(minutes=125)) == 0  # once only
        limits = await events(fresh, "intake.request.timelimit.v1")
        assert [(e["data"]["limit"], e["data"]["stage"]) for e in limits] == [
            ("acknowledge", "warning"),
            ("acknowledge", "breach"),
        ]
        assert limits[1]["correlationid"] == created["id"]
        async with fresh.sessionmaker() as session:
            request = await session.get(Request, created["id"])
            assert request is not None and request.ack_breached and request.escalated

        app = create(fresh)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client2:
            overdue = (
                await client2.get("/requests", params={"site": "harbour", "overdue": "true"}, headers=auth(fresh))
            ).json()
            assert [r["id"] for r in overdue["items"]] == [created["id"]]
            assert (await move(client2, fresh, created["id"], "acknowledged")).status_code == 200
            # The progress reply is still owed: its warning fires; a reply then stops the breach.
            assert await fire_due(fresh, timers, now=start + timedelta(hours=23)) == 1
            reply = await client2.post(
                f"/requests/{created['id']}/replies",
                headers=auth(fresh),
                json={"message": "Engineer booked for 10:00 tomorrow"},
            )
            assert reply.status_code == 200 and reply.json()["replied_at"]
            assert await fire_due(fresh, timers, now=start + timedelta(hours=25)) == 0
            assert (
                await client2.get("/requests", params={"site": "harbour", "overdue": "true"}, headers=auth(fresh))
            ).json()["total"] == 0
        stages = [(e["data"]["limit"], e["data"]["stage"]) for e in await events(fresh, "intake.request.timelimit.v1")]
        assert stages[-1] == ("progress_reply", "warning")
    finally:
        await fresh.engine.dispose()


async def test_time_limits_follow_the_site_kind_and_priority(intake) -> None:
    runtime, client = intake
    emergency = await post(
        client,
        runtime,
        kind="emergency",
        category="lift_trapped",
        priority="urgent",
        in_unit=False,
        unit_id=None,
        location="Block A lift 2",
        building="A",
    )
    due = utcnow()
    start = datetime.fromisoformat(emergency["created_at"])
    assert datetime.fromisoformat(emergency["ack_due_at"]) - start == timedelta(minutes=10)
    assert datetime.fromisoformat(emergency["reply_due_at"]) - start == timedelta(minutes=120)
    urgent = await post(client, runtime, priority="urgent")
    assert datetime.fromisoformat(urgent["ack_due_at"]) - datetime.fromisoformat(urgent["created_at"]) == timedelta(
        minutes=30
    )
    riverside = await client.post(
        "/requests",
        headers=auth(runtime, sites=("riverside",)),
        json={**REPAIR, "site": "riverside", "unit_id": "riverside-T1-1501", "reporter": {"name": "Zhao Lei"}},
    )
    body = riverside.json()
    assert datetime.fromisoformat(body["ack_due_at"]) - datetime.fromisoformat(body["created_at"]) == timedelta(
        minutes=60
    )
    # A supervisor changes harbour's rules; new requests get the new limit.
    supervisor = auth(runtime, roles=("supervisor",))
    rules = {
        "rules": [
            {"limit": "acknowledge", "minutes": 45, "warning_minutes": 15},
            {"limit": "progress_reply", "minutes": 600, "warning_minutes": 60},
        ]
    }
    assert (await client.put("/sites/harbour/time-limits", json=rules, headers=supervisor)).status_code == 200
    bad = await client.put(
        "/sites/harbour/time-limits",
        headers=supervisor,
        json={"rules": [{"limit": "acknowledge", "minutes": 10, "warning_minutes": 10}]},
    )
    assert bad.status_code == 422 and bad.json()["field"].startswith("rules")
    assert (await client.put("/sites/harbour/time-limits", json=rules, headers=auth(runtime))).status_code == 403
    later = await post(client, runtime, category="electrical")
    assert datetime.fromisoformat(later["ack_due_at"]) - datetime.fromisoformat(later["created_at"]) == timedelta(
        minutes=45
    )
    # The emergency's timers: warning 5 minutes before its 10-minute limit.
    assert await fire_due(runtime, timers, now=due + timedelta(minutes=6)) == 1
    [warning] = await events(runtime, "intake.request.timelimit.v1")
    assert warning["data"]["request_id"] == emergency["id"] and warning["data"]["stage"] == "warning"


# --- duplicates and incidents ---------------------------------------------------------------------


async def test_a_repeat_on_the_same_unit_and_category_is_flagged_and_can_be_linked(intake) -> None:
    runtime, client = intake
    first = await post(client, runtime)
    other = await post(client, runtime, category="electrical")
    assert other["possible_duplicate_of"] is None
    second = await post(client, runtime, description="Tap still dripping")
    assert second["possible_duplicate_of"] == first["id"]
    [event] = [e for e in await events(runtime, "intake.request.created.v1") if e["data"]["request_id"] == second["id"]]
    assert event["data"]["possible_duplicate_of"] == first["id"]
    linked = await client.post(
        f"/requests/{second['id']}/duplicate-of", json={"duplicate_of": first["id"]}, headers=auth(runtime)
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["duplicate_of"] == first["id"]
    assert linked.json()["status"] == "cancelled" and linked.json()["cancel_reason"] == f"duplicate of {first['id']}"
    wrong = await client.post(
        f"/requests/{other['id']}/duplicate-of", json={"duplicate_of": "nope"}, headers=auth(runtime)
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "duplicate_of"
    # The window is the site's to set; 0 turns the flag off.
    manager = auth(runtime, roles=("manager",))
    settings = await client.patch("/sites/harbour/settings", json={"duplicate_window_hours": 0}, headers=manager)
    assert settings.status_code == 200 and settings.json()["duplicate_window_hours"] == 0
    assert (await post(client, runtime))["possible_duplicate_of"] is None
    bad = await client.patch("/sites/harbour/settings", json={"incident_threshold": 1}, headers=manager)
    assert bad.status_code == 422 and bad.json()["field"] == "incident_threshold"
    assert (
        await client.patch("/sites/harbour/settings", json={"duplicate_window_hours": 1}, headers=auth(runtime))
    ).status_code == 403


# --- caller lookup and timelines ------------------------------------------------------------------


async def test_one_timeline_per_request_and_per_unit_gathers_every_service(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    rid = created["id"]
    await deliver(runtime, envelope(runtime, "dispatch.workorder.created.v1", {"request_id": rid}, correlation=rid))
    await deliver(
        runtime, envelope(runtime, "dispatch.workorder.status_changed.v1", {"request_id": rid}, correlation=rid)
    )
    await deliver(runtime, envelope(runtime, "dispatch.workorder.timelimit.v1", {"request_id": rid}, correlation=rid))
    event = envelope(runtime, "dispatch.workorder.completed.v1", {"request_id": rid}, correlation=rid)
    assert await deliver(runtime, event) == "handled"
    assert await deliver(runtime, event) == "duplicate"
    await deliver(runtime, envelope(runtime, "billing.charge.recorded.v1", {"request_id": rid}, correlation=rid))
    await deliver(runtime, envelope(runtime, "survey.followup.scheduled.v1", {"request_id": rid}, correlation=rid))
    await deliver(runtime, envelope(runtime, "notification.message.sent.v1", {"request_id": rid}, correlation=rid))
    result = await detail(client, runtime, rid)
    assert result["status"] == "resolved" and result["department"] == "engineering"
    assert [(e["source"], e["event_type"]) for e in result["timeline"]] == [
        ("intake", "intake.request.created.v1"),
        ("dispatch", "dispatch.workorder.created.v1"),
        ("intake", "intake.request.status_changed.v1"),
        ("dispatch", "dispatch.workorder.status_changed.v1"),
        ("dispatch", "dispatch.workorder.timelimit.v1"),
        ("dispatch", "dispatch.workorder.completed.v1"),
        ("intake", "intake.request.status_changed.v1"),
        ("billing", "billing.charge.recorded.v1"),
        ("survey", "survey.followup.scheduled.v1"),
        ("notification", "notification.message.sent.v1"),
    ]
    changes = await events(runtime, "intake.request.status_changed.v1")
    assert [(e["data"]["to_status"], e["causationid"] is not None) for e in changes] == [
        ("in_progress", True),
        ("resolved", True),
    ]
    second = await post(client, runtime, category="electrical")
    unit_timeline = (await client.get("/units/harbour-A-0101/timeline", headers=auth(runtime))).json()
    assert len(unit_timeline) == 11 and unit_timeline[0]["data"]["request_id"] == second["id"]


async def test_a_failed_follow_up_reopens_escalates_and_asks_for_rework(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    rid = created["id"]
    for status in ("acknowledged", "in_progress", "resolved"):
        await move(client, runtime, rid, status)
    await clear_outbox(runtime)
    failed = envelope(runtime, "survey.followup.completed.v1", {"request_id": rid}, correlation=rid)
    assert await deliver(runtime, failed) == "handled"
    result = await detail(client, runtime, rid)
    assert result["status"] == "reopened" and result["escalated"] and result["reopen_count"] == 1
    [reopened] = await events(runtime, "intake.request.reopened.v1")
    assert reopened["data"]["followup_id"] == "fu-0001" and reopened["data"]["work_order_id"] == "wo-0001"
    assert reopened["data"]["department"] == "engineering" and reopened["causationid"] == failed.id
    assert reopened["correlationid"] == rid
    [change] = await events(runtime, "intake.request.status_changed.v1")
    assert (change["data"]["from_status"], change["data"]["to_status"]) == ("resolved", "reopened")
    # Rework done, the next follow-up satisfies the owner: followed up, then closed.
    await deliver(runtime, envelope(runtime, "dispatch.workorder.completed.v1", {"request_id": rid}, correlation=rid))
    satisfied = envelope(
        runtime,
        "survey.followup.completed.v1",
        {
            "request_id": rid,
            "followup_id": "fu-0002",
            "outcome": "satisfied",
            "solved": True,
            "reopen": False,
            "comment": None,
        },
        correlation=rid,
    )
    await deliver(runtime, satisfied)
    assert (await detail(client, runtime, rid))["status"] == "closed"
    steps = [e["data"]["to_status"] for e in await events(runtime, "intake.request.status_changed.v1")]
    assert steps == ["reopened", "resolved", "followed_up", "closed"]


async def test_a_skipped_follow_up_closes_a_resolved_request_and_only_notes_a_reopened_one(intake) -> None:
    runtime, client = intake
    rid = (await post(client, runtime))["id"]
    for status in ("acknowledged", "in_progress", "resolved"):
        await move(client, runtime, rid, status)
    await clear_outbox(runtime)
    skipped = envelope(runtime, "survey.followup.skipped.v1", {"request_id": rid}, correlation=rid)
    assert await deliver(runtime, skipped) == "handled"
    result = await detail(client, runtime, rid)
    assert result["status"] == "closed" and result["closed_at"] is not None
    [change] = await events(runtime, "intake.request.status_changed.v1")
    assert (change["data"]["from_status"], change["data"]["to_status"]) == ("resolved", "closed")
    assert change["data"]["reason"] == "follow-up skipped: not drawn in the site's follow-up sample"
    assert change["causationid"] == skipped.id and change["correlationid"] == rid
    async with runtime.sessionmaker() as session:
        history = (
            await session.scalars(select(StatusChange).where(StatusChange.request_id == rid).order_by(StatusChange.id))
        ).all()
    assert (history[-1].to_status, history[-1].reason) == ("closed", change["data"]["reason"])
    assert [e["event_type"] for e in result["timeline"]][-2:] == [
        "survey.followup.skipped.v1",
        "intake.request.status_changed.v1",
    ]
    assert await deliver(runtime, skipped) == "duplicate"  # the inbox: closed once

    # A reopened request (the owner said it is not solved) only records the skip on its timeline.
    await move(client, runtime, rid, "reopened", reason="leaking again")
    await clear_outbox(runtime)
    budget = envelope(
        runtime, "survey.followup.skipped.v1", {"request_id": rid, "reason": "contact_budget"}, correlation=rid
    )
    assert await deliver(runtime, budget) == "handled"
    result = await detail(client, runtime, rid)
    assert result["status"] == "reopened"
    assert result["timeline"][-1]["summary"] == "follow-up skipped: the owner's contact budget is used up"
    assert await events(runtime) == []


async def test_a_home_visit_can_raise_a_request(intake) -> None:
    runtime, client = intake
    visit = envelope(runtime, "survey.visit.recorded.v1", correlation="vis-0001")
    assert await deliver(runtime, visit) == "handled"
    [created] = await events(runtime, "intake.request.created.v1")
    assert created["causationid"] == visit.id
    data = created["data"]
    assert data["channel"] == "visit" and data["category"] == "drainage" and data["unit_id"] == "harbour-A-0101"
    assert data["reporter"]["party_id"] == "harbour-A-0101-owner" and data["reporter"]["name"] == "Li Wei"
    result = await detail(client, runtime, data["request_id"])
    assert result["created_by"] == "manager.harbour"
    assert [e["event_type"] for e in result["timeline"]] == ["intake.request.created.v1", "survey.visit.recorded.v1"]
    quiet = envelope(runtime, "survey.visit.recorded.v1", {"raise_request": None})
    assert await deliver(runtime, quiet) == "handled"
    assert len(await events(runtime, "intake.request.created.v1")) == 1


# --- complaints, duty log, handover and reports ---------------------------------------------------


async def test_a_progress_reply_is_announced_for_the_owner_in_the_same_transaction(intake) -> None:
    runtime, client = intake
    created = await post(client, runtime)
    response = await client.post(
        f"/requests/{created['id']}/replies",
        headers=auth(runtime),
        json={"message": "Engineer booked for 10:00 tomorrow", "channel": "phone"},
    )
    assert response.status_code == 200, response.text
    [replied] = await events(runtime, "intake.request.replied.v1")
    assert replied["subject"] == created["id"] and replied["correlationid"] == created["id"]
    data = replied["data"]
    assert (
        data["request_id"],
        data["site"],
        data["unit_id"],
        data["party_id"],
        data["message"],
        data["replied_by"],
        data["language"],
    ) == (
        created["id"],
        "harbour",
        "harbour-A-0101",
        "harbour-A-0101-owner",
        "Engineer booked for 10:00 tomorrow",
        "agent.1",
        "zh-CN",
    )
    assert datetime.fromisoformat(data["replied_at"]) >= datetime.fromisoformat(created["created_at"])
    timeline = (await detail(client, runtime, created["id"]))["timeline"]
    assert [e["event_type"] for e in timeline] == ["intake.request.created.v1", "intake.request.replied.v1"]

    # A closed request takes no reply: 409, and nothing is announced.
    cancelled = await post(client, runtime, category="electrical")
    assert (await move(client, runtime, cancelled["id"], "cancelled", "owner fixed it")).status_code == 200
    response = await client.post(
        f"/requests/{cancelled['id']}/replies", headers=auth(runtime), json={"message": "Too late"}
    )
    assert response.status_code == 409
    assert len(await events(runtime, "intake.request.replied.v1")) == 1


async def test_a_classification_is_announced_with_the_responsible_department(intake) -> None:
    runtime, client = intake
    complaint = {**REPAIR, "kind": "complaint", "in_unit": False, "description": "Water pressure ignored for weeks"}
    # Nobody knows who handles noise: a valid complaint needs the department named, and nothing is announced.
    noise = await post(client, runtime, complaint, category="noise")
    response = await client.post(
        f"/requests/{noise['id']}/classification", headers=auth(runtime), json={"complaint_class": "valid"}
    )
    assert response.status_code == 422 and response.json()["field"] == "department"
    assert await events(runtime, "intake.request.classified.v1") == []

    # Dispatch routed an earlier water repair to engineering: intake knows who is responsible for water.
    repair = await post(client, runtime)
    await deliver(
        runtime,
        envelope(runtime, "dispatch.workorder.created.v1", {"request_id": repair["id"]}, correlation=repair["id"]),
    )
    water = await post(client, runtime, complaint)
    for complaint_class in ("venting", "valid"):
        response = await client.post(
            f"/requests/{water['id']}/classification", headers=auth(runtime), json={"complaint_class": complaint_class}
        )
        assert response.status_code == 200, response.text
    assert response.json()["department"] == "engineering" and response.json()["escalated"] is True
    venting, valid = await events(runtime, "intake.request.classified.v1")
    for event, complaint_class in ((venting, "venting"), (valid, "valid")):
        assert event["subject"] == water["id"] and event["correlationid"] == water["id"]
        data = event["data"]
        assert (
            data["request_id"],
            data["site"],
            data["kind"],
            data["category"],
            data["complaint_class"],
            data["department"],
            data["classified_by"],
            data["summary"],
            data["unit_id"],
        ) == (
            water["id"],
            "harbour",
            "complaint",
            "water",
            complaint_class,
            "engineering",
            "agent.1",
            "Water pressure ignored for weeks",
            "harbour-A-0101",
        )

    # An explicit department wins; a complaint classified as it is recorded is announced too.
    response = await client.post(
        f"/requests/{noise['id']}/classification",
        headers=auth(runtime),
        json={"complaint_class": "valid", "department": "security"},
    )
    assert response.status_code == 200
    recorded = await post(client, runtime, complaint, category="cleaning", complaint_class="help_seeking")
    *_, named, at_creation = await events(runtime, "intake.request.classified.v1")
    assert (named["data"]["request_id"], named["data"]["department"]) == (noise["id"], "security")
    assert (
        at_creation["data"]["request_id"],
        at_creation["data"]["complaint_class"],
        at_creation["data"]["department"],
    ) == (recorded["id"], "help_seeking", None)


async def test_owners_raise_and_follow_their_own_requests_from_the_app(intake) -> None:
    runtime, client = intake

    def owner(party_id: str) -> dict[str, str]:
        token = mint_token(runtime.settings, party_id, ["owner"], ["harbour"], party_id=party_id)
        return {"Authorization": "Bearer " + token}

    li = owner("harbour-A-0101-owner")
    body = {**REPAIR, "reporter": {"name": "Someone Else", "phone": "13811112222"}, "channel": "phone"}
    response = await client.post("/requests", json=body, headers=li)
    assert response.status_code == 201, response.text
    created = response.json()
    # The reporter is the caller's archive record; the channel is the app.
    assert created["channel"] == "app" and created["reporter_name"] == "Li Wei"
    assert created["reporter_phone"] == "13800000001"
    other_unit = await client.post("/requests", json={**REPAIR, "unit_id": "harbour-A-0102"}, headers=li)
    assert other_unit.status_code == 403 and other_unit.json()["field"] == "unit_id"
    wang = owner("harbour-A-0102-owner")
    assert (await client.get(f"/requests/{created['id']}", headers=wang)).status_code == 403
    assert (await client.get("/requests", params={"site": "harbour"}, headers=wang)).json()["total"] == 0
    mine = await detail(client, runtime, created["id"], headers=li)
    assert all(entry["data"] == {} for entry in mine["timeline"])
    assert (await move(client, runtime, created["id"], "acknowledged")).status_code == 200
    assert (
        await client.post(f"/requests/{created['id']}/status", json={"status": "closed"}, headers=li)
    ).status_code == 403
    stranger = {"Authorization": "Bearer " + mint_token(runtime.settings, "x", ["owner"], ["harbour"])}
    assert (await client.post("/requests", json=REPAIR, headers=stranger)).status_code == 403


# --- what an owner reads, what other services need from intake ------------------------------------


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


# --- events from two streams, in every order ------------------------------------------------------


def interleavings(first: list[Any], second: list[Any]) -> list[list[Any]]:
    """Every merge of two streams that keeps each stream's own order."""
    size = len(first) + len(second)
    merged = []
    for places in combinations(range(size), len(first)):
        a, b = iter(first), iter(second)
        merged.append([next(a) if i in places else next(b) for i in range(size)])
    return merged


def dispatch_round(runtime, rid: str, work_order: str) -> list[Envelope]:
    changes = {"request_id": rid, "work_order_id": work_order}
    return [
        envelope(runtime, "dispatch.workorder.created.v1", changes, correlation=rid),
        envelope(runtime, "dispatch.workorder.completed.v1", changes, correlation=rid),
    ]


def skipped(runtime, rid: str, work_order: str) -> Envelope:
    return envelope(
        runtime, "survey.followup.skipped.v1", {"request_id": rid, "work_order_id": work_order}, correlation=rid
    )


def followed_up(runtime, rid: str, work_order: str, *, satisfied: bool) -> Envelope:
    changes: dict[str, Any] = {"request_id": rid, "work_order_id": work_order, "followup_id": f"fu-{work_order}"}
    if satisfied:
        changes |= {"outcome": "satisfied", "solved": True, "reopen": False, "comment": None}
    return envelope(runtime, "survey.followup.completed.v1", changes, correlation=rid)


OUTCOMES = {
    "skipped": (lambda runtime, rid: skipped(runtime, rid, "wo-1"), "closed"),
    "satisfied": (lambda runtime, rid: followed_up(runtime, rid, "wo-1", satisfied=True), "closed"),
    "not_solved": (lambda runtime, rid: followed_up(runtime, rid, "wo-1", satisfied=False), "reopened"),
}


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
async def test_a_follow_up_and_its_completion_reach_one_end_in_either_order(intake, outcome) -> None:
    runtime, client = intake
    make, expected = OUTCOMES[outcome]
    orders = interleavings(["created", "completed"], ["followup"])
    assert len(orders) == 3  # the follow-up first, between, and last
    for order in orders:
        rid = (await post(client, runtime))["id"]
        created, completed = dispatch_round(runtime, rid, "wo-1")
        by_name = {"created": created, "completed": completed, "followup": make(runtime, rid)}
        for name in order:
            assert await deliver(runtime, by_name[name]) == "handled"
        result = await detail(client, runtime, rid)
        assert result["status"] == expected, (order, result["status"])
        changes = [
            e for e in await events(runtime, "intake.request.status_changed.v1") if e["data"]["request_id"] == rid
        ]
        steps = [(e["data"]["from_status"], e["data"]["to_status"]) for e in changes]
        assert steps[:2] == [("new", "in_progress"), ("in_progress", "resolved")], order
        # The end is caused by the follow-up, whenever it arrived.
        assert changes[-1]["causationid"] == by_name["followup"].id, order
        reopened = [e for e in await events(runtime, "intake.request.reopened.v1") if e["data"]["request_id"] == rid]
        assert len(reopened) == (1 if expected == "reopened" else 0), order


async def test_rework_after_a_failed_follow_up_converges_in_every_order(intake) -> None:
    """Round one fails its follow-up (reopened, escalated); the rework's completion and its satisfied follow-up
    then arrive in any order, and a late answer about round one never closes the rework."""
    runtime, client = intake
    for order in interleavings(["created", "completed"], ["followup"]):
        rid = (await post(client, runtime))["id"]
        failed = followed_up(runtime, rid, "wo-1", satisfied=False)
        await deliver(runtime, failed)  # before round one's completion: it waits for it
        for event in dispatch_round(runtime, rid, "wo-1"):
            await deliver(runtime, event)
        assert (await detail(client, runtime, rid))["status"] == "reopened"
        late = skipped(runtime, rid, "wo-1")  # about round one: only noted
        assert await deliver(runtime, late) == "handled"
        assert (await detail(client, runtime, rid))["status"] == "reopened"
        created, completed = dispatch_round(runtime, rid, "wo-2")
        by_name = {
            "created": created,
            "completed": completed,
            "followup": followed_up(runtime, rid, "wo-2", satisfied=True),
        }
        for name in order:
            await deliver(runtime, by_name[name])
        result = await detail(client, runtime, rid)
        assert (result["status"], result["reopen_count"]) == ("closed", 1), order


async def test_a_follow_up_waiting_for_its_completion_is_applied_once(intake) -> None:
    runtime, client = intake
    rid = (await post(client, runtime))["id"]
    skip = skipped(runtime, rid, "wo-1")
    assert await deliver(runtime, skip) == "handled"
    assert await deliver(runtime, skip) == "duplicate"
    assert (await detail(client, runtime, rid))["status"] == "new"
    created, completed = dispatch_round(runtime, rid, "wo-1")
    for event in (created, completed, completed):
        await deliver(runtime, event)
    assert (await detail(client, runtime, rid))["status"] == "closed"
    closes = [
        e
        for e in await events(runtime, "intake.request.status_changed.v1")
        if e["data"]["request_id"] == rid and e["data"]["to_status"] == "closed"
    ]
    assert len(closes) == 1
    # A worker of the department still sees the request they worked on (the department came with the events).
    seen = await client.get(f"/requests/{rid}", headers=auth(runtime, roles=("worker",), department="engineering"))
    assert seen.status_code == 200


async def test_two_rounds_end_closed_in_every_order_the_streams_allow(intake) -> None:
    """Round one fails its follow-up, round two satisfies the owner. Each stream keeps its own order, and the
    rework (wo-2) and its follow-up exist only once intake has reopened the request, i.e. after it has seen
    both round one's completion and its failed follow-up; every other order is possible."""
    runtime, client = intake
    dispatch = ["created-1", "completed-1", "created-2", "completed-2"]
    survey = ["followup-1", "followup-2"]

    def possible(order: list[str]) -> bool:
        reopened_at = max(order.index("completed-1"), order.index("followup-1"))
        return order.index("created-2") > reopened_at and order.index("followup-2") > reopened_at

    orders = [order for order in interleavings(dispatch, survey) if possible(order)]
    assert len(orders) == 9
    for order in orders:
        rid = (await post(client, runtime))["id"]
        created_1, completed_1 = dispatch_round(runtime, rid, "wo-1")
        created_2, completed_2 = dispatch_round(runtime, rid, "wo-2")
        by_name = {
            "created-1": created_1,
            "completed-1": completed_1,
            "created-2": created_2,
            "completed-2": completed_2,
            "followup-1": followed_up(runtime, rid, "wo-1", satisfied=False),
            "followup-2": followed_up(runtime, rid, "wo-2", satisfied=True),
        }
        for name in order:
            assert await deliver(runtime, by_name[name]) == "handled"
        result = await detail(client, runtime, rid)
        assert (result["status"], result["reopen_count"]) == ("closed", 1), order


async def deliver_until_done(runtime, event: Envelope) -> str:
    """Deliver as the consumer would: a transient failure (a lock conflict, a busy SQLite file) is retried."""
    for _ in range(50):
        try:
            return await deliver(runtime, event)
        except Exception:  # the consumer retries whatever a handler raises (here: at once)
            continue
    raise AssertionError(f"{event.type} never went through")


async def test_a_completion_and_its_skip_handled_at_the_same_time_still_close_the_request(intake) -> None:
    """The two durables run concurrently: the completion and the skip may be handled in overlapping
    transactions, each not yet seeing what the other wrote."""
    runtime, client = intake
    rids = []
    for _ in range(12):
        rid = (await post(client, runtime))["id"]
        created, completed = dispatch_round(runtime, rid, "wo-1")
        await deliver(runtime, created)
        await asyncio.gather(
            deliver_until_done(runtime, completed), deliver_until_done(runtime, skipped(runtime, rid, "wo-1"))
        )
        rids.append(rid)
    statuses = [(await detail(client, runtime, rid))["status"] for rid in rids]
    assert statuses == ["closed"] * len(rids)


async def test_a_decoration_inspections_work_order_is_no_requests_business(intake) -> None:
    """Dispatch's events about an inspection's work order name its inspection_id (request_id carries the same
    id): the request timelines skip them, nothing is dead-lettered, no request moves."""
    runtime, client = intake
    inspection = {"request_id": "di-19c2", "inspection_id": "di-19c2", "unit_id": "harbour-A-0101"}
    for event_type in (
        "dispatch.workorder.created.v1",
        "dispatch.workorder.status_changed.v1",
        "dispatch.workorder.timelimit.v1",
        "dispatch.workorder.completed.v1",
    ):
        assert await deliver(runtime, envelope(runtime, event_type, inspection, correlation="dp-7f3a")) == "handled"
    assert await outbox_rows(runtime) == []
    unit_timeline = (await client.get("/units/harbour-A-0101/timeline", headers=auth(runtime))).json()
    assert unit_timeline == []


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_the_request_state_machine() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert not any(can_transition(Status.cancelled, target) for target in Status)
    # Work may skip steps forward, never go back, and a resolved request is followed up, closed or reopened.
    assert can_transition(Status.new, Status.resolved)
    assert not can_transition(Status.in_progress, Status.acknowledged)
    assert {target for target in Status if can_transition(Status.resolved, target)} == {
        Status.followed_up,
        Status.closed,
        Status.reopened,
    }
    # Only a reopen brings a closed request back; a finished request can no longer be cancelled.
    assert {target for target in Status if can_transition(Status.closed, target)} == {Status.reopened}
    assert not can_transition(Status.resolved, Status.cancelled)
    assert can_transition(Status.reopened, Status.in_progress)


@pytest.mark.unit
def test_unit_open_requests_and_those_owed_no_reply_do_not_overlap() -> None:
    assert set(OPEN) == {Status.new, Status.acknowledged, Status.in_progress, Status.reopened}
    assert not OPEN & REPLY_SETTLED
    assert Status.cancelled in REPLY_SETTLED
