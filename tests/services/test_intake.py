"""Intake over HTTP and through its event handlers and timers (no NATS: the runtime is not started), on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from intake.database import Base, platform_tables
from intake.main import create, subscriptions
from intake.organization.models import Party, Unit
from intake.request.handlers import timers
from intake.request.models import Request, StatusChange
from intake.seed import seed
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from pm_platform.timers import fire_due

REPAIR = {
    "site": "harbour",
    "kind": "repair",
    "category": "water",
    "description": "Kitchen tap leaking",
    "unit_id": "harbour-A-0101",
    "in_unit": True,
    "reporter": {"party_id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"},
}
EXAMPLES = REPO_ROOT / "contracts" / "examples"


def new_runtime(settings: Settings) -> Runtime:
    return Runtime(settings, Base.metadata, platform_tables, subscriptions)


@pytest.fixture
async def intake(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="intake", var_dir=tmp_path, database_url=database_urls["intake"])
    await asyncio.to_thread(migrations.upgrade, "intake", settings)
    runtime = new_runtime(settings)
    await seed(runtime)
    await seed(runtime)  # idempotent
    await clear_outbox(runtime)  # the seed's upserts are checked in their own test
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def auth(
    runtime: Runtime, roles=("agent",), sites=("harbour",), department: str | None = None, subject: str = "agent.1"
) -> dict[str, str]:
    token = mint_token(runtime.settings, subject, list(roles), list(sites), department=department)
    return {"Authorization": "Bearer " + token}


async def outbox_rows(runtime: Runtime) -> list[dict]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(select(runtime.tables.outbox).order_by(runtime.tables.outbox.c.id))
        return [dict(r) for r in rows.mappings()]


async def events(runtime: Runtime, event_type: str | None = None) -> list[dict[str, Any]]:
    """The outbox's events (each checked against its contract), optionally of one type."""
    found = []
    for row in await outbox_rows(runtime):
        event = json.loads(row["payload"])
        runtime.catalog.parse(event)
        if event_type is None or event["type"] == event_type:
            found.append(event)
    return found


async def clear_outbox(runtime: Runtime) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(delete(runtime.tables.outbox))
        await session.commit()


def envelope(
    runtime: Runtime,
    event_type: str,
    changes: dict[str, Any] | None = None,
    *,
    example: str | None = None,
    correlation: str | None = None,
) -> Envelope:
    """Another service's event: the contract's example with ``changes``, as its producer would write it."""
    contract = runtime.catalog.contract(event_type)
    data = {**json.loads((EXAMPLES / (example or f"{event_type}.json")).read_text()), **(changes or {})}
    document = {
        "specversion": "1.0",
        "id": new_id(),
        "source": f"pm/{contract.producer}",
        "type": event_type,
        "subject": str(data.get("request_id") or data.get("unit_id") or "s"),
        "time": utcnow().isoformat(),
        "datacontenttype": "application/json",
        "dataschema": contract.dataschema,
        "site": data["site"],
        "correlationid": correlation or str(data.get("request_id") or "c"),
        "data": data,
    }
    if contract.has_department:
        document["department"] = data["department"]
    return runtime.catalog.parse(document)


async def deliver(runtime: Runtime, event: Envelope, consumer: str = "intake-test") -> str:
    return await apply_event(runtime, consumer, runtime.subscriptions.handlers, event)


async def post(
    client: httpx.AsyncClient, runtime: Runtime, body: dict[str, Any] | None = None, **changes: Any
) -> dict[str, Any]:
    response = await client.post("/requests", json={**(body or REPAIR), **changes}, headers=auth(runtime))
    assert response.status_code == 201, response.text
    return response.json()


async def move(
    client: httpx.AsyncClient, runtime: Runtime, request_id: str, status: str, reason: str | None = None
) -> httpx.Response:
    body = {"status": status} | ({"reason": reason} if reason else {})
    return await client.post(f"/requests/{request_id}/status", json=body, headers=auth(runtime))


async def detail(client: httpx.AsyncClient, runtime: Runtime, request_id: str, **kw: Any) -> dict[str, Any]:
    response = await client.get(f"/requests/{request_id}", headers=kw.get("headers") or auth(runtime))
    assert response.status_code == 200, response.text
    return response.json()


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


# --- the owner archive ----------------------------------------------------------------------------


async def test_the_seed_publishes_the_archive_as_upsert_events(database_urls, tmp_path) -> None:
    settings = Settings(service="intake", var_dir=tmp_path, database_url=database_urls["intake"])
    await asyncio.to_thread(migrations.upgrade, "intake", settings)
    runtime = new_runtime(settings)
    try:
        await seed(runtime)
        units = await events(runtime, "intake.unit.upserted.v1")
        parties = await events(runtime, "intake.party.upserted.v1")
        assert len({e["data"]["unit_id"] for e in units}) == 9
        a0101 = [e["data"] for e in units if e["data"]["unit_id"] == "harbour-A-0101"][-1]
        assert a0101["area_m2"] == "89.50" and a0101["paying_party_id"] == "harbour-A-0101-owner"
        vacant = [e["data"] for e in units if e["data"]["unit_id"] == "harbour-B-0302"][-1]
        assert vacant["paying_party_id"] is None and vacant["occupied"] is False
        zhang = [e["data"] for e in parties if e["data"]["party_id"] == "harbour-A-1201-owner"][-1]
        assert zhang["extra_care"] == ["elderly"] and zhang["active"] is True
        count = len(await outbox_rows(runtime))
        await seed(runtime)
        assert len(await outbox_rows(runtime)) == count  # idempotent
    finally:
        await runtime.engine.dispose()


async def test_tenants_move_in_and_out_and_the_paying_party_follows(intake) -> None:
    runtime, client = intake
    tenant = await client.post(
        "/units/harbour-A-0102/parties",
        headers=auth(runtime),
        json={
            "role": "tenant",
            "name": "Zhou Yu",
            "phone": "13800000099",
            "language": "en",
            "move_in": "2026-11-01",
            "tenancy_registration": "TR-2026-0042",
            "pays": True,
            "extra_care": ["disabled"],
        },
    )
    assert tenant.status_code == 201, tenant.text
    party_id = tenant.json()["id"]
    [unit_event] = await events(runtime, "intake.unit.upserted.v1")
    assert unit_event["data"]["paying_party_id"] == party_id
    party_events = await events(runtime, "intake.party.upserted.v1")
    assert {e["data"]["party_id"]: e["data"]["pays"] for e in party_events} == {
        party_id: True,
        "harbour-A-0102-owner": False,
    }
    await clear_outbox(runtime)
    day = (date.today() - timedelta(days=3)).isoformat()
    moved = await client.post(f"/parties/{party_id}/move-out", json={"move_out": day}, headers=auth(runtime))
    assert moved.status_code == 200 and moved.json()["active"] is False
    [left] = await events(runtime, "intake.party.upserted.v1")
    assert left["data"]["active"] is False and left["data"]["move_out"] == day
    [unit_event] = await events(runtime, "intake.unit.upserted.v1")
    assert unit_event["data"]["paying_party_id"] == "harbour-A-0102-owner"  # back to the owner
    bad = await client.post(
        "/units/harbour-A-0102/parties", headers=auth(runtime), json={"role": "lodger", "name": "x"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "role"
    worker = auth(runtime, roles=("worker",), department="engineering")
    assert (
        await client.post("/units/harbour-A-0102/parties", headers=worker, json={"role": "tenant", "name": "x"})
    ).status_code == 403


UNITS_CSV = """code,building,floor,area_m2,use,occupied
A-0201,A,2,88.00,residential,true
A-0202,A,2,101.25,residential,false
A-0101,A,1,90.00,residential,true
"""


async def test_csv_import_applies_a_valid_file_and_exports_it_back(intake) -> None:
    runtime, client = intake
    manager = auth(runtime, roles=("manager",))
    response = await client.post(
        "/sites/harbour/import/units", content=UNITS_CSV.encode(), headers={**manager, "content-type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"kind": "units", "rows": 3, "created": 2, "updated": 1}
    upserts = await events(runtime, "intake.unit.upserted.v1")
    assert {e["data"]["unit_id"]: e["data"]["area_m2"] for e in upserts} == {
        "harbour-A-0201": "88.00",
        "harbour-A-0202": "101.25",
        "harbour-A-0101": "90.00",
    }
    parties_csv = (
        "id,unit,role,name,phone,email,language,extra_care,move_in,move_out,tenancy_registration,pays\n"
        ",A-0201,owner,Qian Hui,13800000201,,zh-CN,elderly;disabled,2020-01-01,,,true\n"
    )
    response = await client.post("/sites/harbour/import/parties", content=parties_csv.encode(), headers=manager)
    assert response.status_code == 200, response.text
    exported = await client.get("/sites/harbour/export/parties", headers=manager)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    line = next(row for row in exported.text.splitlines() if "Qian Hui" in row)
    assert ",A-0201,owner,Qian Hui,13800000201,,zh-CN,disabled;elderly,2020-01-01,,,true" in line
    units = (await client.get("/sites/harbour/export/units", headers=manager)).text
    assert "A-0202,A,2,101.25,residential,false" in units
    # The export imports back unchanged.
    again = await client.post("/sites/harbour/import/units", content=units.encode(), headers=manager)
    assert again.status_code == 200 and again.json()["created"] == 0


async def test_a_csv_file_with_errors_is_rejected_whole_with_every_bad_row_and_field(intake) -> None:
    runtime, client = intake
    manager = auth(runtime, roles=("manager",))
    bad = """code,building,floor,area_m2,use,occupied
A-0301,A,3,88.00,residential,true
A-0302,Z,3,88.00,residential,true
A-0303,A,three,-5,castle,maybe
A-0301,A,3,88.00,residential,true
"""
    response = await client.post("/sites/harbour/import/units", content=bad.encode(), headers=manager)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    errors = {(e["row"], e["field"]) for e in problem["errors"]}
    assert errors == {(3, "building"), (4, "floor"), (4, "area_m2"), (4, "use"), (4, "occupied"), (5, "code")}
    assert "nothing was imported" in problem["detail"]
    assert await outbox_rows(runtime) == []
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "A-0301")) == 0
    parties = (
        "unit,role,name,phone,language,move_in,move_out,colour\nA-9999,owner,Ghost,12,fr,2026-02-01,2026-01-01,red\n"
    )
    response = await client.post("/sites/harbour/import/parties", content=parties.encode(), headers=manager)
    assert response.status_code == 422
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {(1, "colour")}
    parties = (
        "unit,role,name,phone,language,move_in,move_out\n"
        "A-9999,owner,Ghost,12,fr,2026-02-01,2026-01-01\n"
        "A-0101,landlord,,13800000001,zh-CN,,\n"
    )
    response = await client.post("/sites/harbour/import/parties", content=parties.encode(), headers=manager)
    fields = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {(2, "unit"), (2, "phone"), (2, "language"), (3, "role"), (3, "name")} <= fields
    async with runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Party).where(Party.name == "Ghost")) == 0
    missing = await client.post("/sites/harbour/import/units", content=b"code,floor\nA-1,1\n", headers=manager)
    assert {(e["row"], e["field"]) for e in missing.json()["errors"]} == {(1, "building"), (1, "area_m2")}


async def test_the_taxonomy_is_site_editable(intake) -> None:
    runtime, client = intake
    supervisor = auth(runtime, roles=("supervisor",))
    taxonomy = (await client.get("/sites/harbour/categories", headers=supervisor)).json()
    assert {"water", "lift", "staff_attitude", "other"} <= {c["code"] for c in taxonomy}
    keep = [{"code": c["code"], "name": c["name"]} for c in taxonomy if c["code"] != "gas"]
    keep.append({"code": "pets", "name": "Pets"})
    assert (await client.put("/sites/harbour/categories", json=keep, headers=supervisor)).status_code == 200
    gas = await client.post("/requests", json={**REPAIR, "category": "gas"}, headers=auth(runtime))
    assert gas.status_code == 422 and gas.json()["field"] == "category"
    await post(client, runtime, kind="complaint", category="pets", in_unit=False)
    # Riverside keeps its own taxonomy.
    riverside = (await client.get("/sites/riverside/categories", headers=auth(runtime, sites=("riverside",)))).json()
    assert {c["code"]: c["active"] for c in riverside}["gas"] is True


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


# --- caller lookup and timelines ------------------------------------------------------------------


async def test_caller_lookup_shows_party_unit_requests_and_payment_status(intake) -> None:
    runtime, client = intake
    status = envelope(runtime, "billing.account.status_changed.v1")  # A-0101 in arrears
    assert await deliver(runtime, status) == "handled"
    stale = envelope(
        runtime,
        "billing.account.status_changed.v1",
        {"in_arrears": False, "overdue_cents": 0, "updated_at": "2026-11-01T00:00:00+00:00"},
    )
    await deliver(runtime, stale)  # older than what intake holds: ignored
    # Arrears never block a request.
    created = await post(client, runtime)
    await move(client, runtime, created["id"], "acknowledged")
    found = (await client.get("/lookup", params={"phone": "13800000001"}, headers=auth(runtime))).json()
    [match] = found["matches"]
    assert match["party"]["id"] == "harbour-A-0101-owner" and match["unit"]["id"] == "harbour-A-0101"
    assert match["payment"]["in_arrears"] is True and match["payment"]["overdue_cents"] == 26200
    assert [r["id"] for r in match["open_requests"]] == [created["id"]]
    assert [r["id"] for r in match["recent_requests"]] == [created["id"]]
    by_unit = (await client.get("/lookup", params={"unit_id": "harbour-A-0101"}, headers=auth(runtime))).json()
    assert by_unit["matches"][0]["parties"][0]["name"] == "Li Wei"
    unknown = (await client.get("/lookup", params={"phone": "13999999999"}, headers=auth(runtime))).json()
    assert unknown["matches"][0]["party"] is None and unknown["matches"][0]["open_requests"] == []
    bad = await client.get("/lookup", params={"phone": "call me"}, headers=auth(runtime))
    assert bad.status_code == 422 and bad.json()["field"] == "query.phone"


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


async def test_complaints_are_classified_and_analysed_monthly(intake) -> None:
    runtime, client = intake
    complaint = {
        **REPAIR,
        "kind": "complaint",
        "in_unit": False,
        "category": "cleaning",
        "description": "Stairwell not cleaned for a week",
    }
    valid = await post(client, runtime, complaint)
    response = await client.post(
        f"/requests/{valid['id']}/classification", headers=auth(runtime), json={"complaint_class": "valid"}
    )
    assert response.status_code == 422 and response.json()["field"] == "department"
    response = await client.post(
        f"/requests/{valid['id']}/classification",
        headers=auth(runtime),
        json={"complaint_class": "valid", "department": "cleaning"},
    )
    assert response.status_code == 200 and response.json()["escalated"] is True
    await post(client, runtime, complaint, complaint_class="venting")
    repair = await post(client, runtime)
    response = await client.post(
        f"/requests/{repair['id']}/classification", headers=auth(runtime), json={"complaint_class": "inquiry"}
    )
    assert response.status_code == 422 and response.json()["field"] == "complaint_class"
    await move(client, runtime, valid["id"], "acknowledged")
    month = utcnow().strftime("%Y-%m")
    supervisor = auth(runtime, roles=("supervisor",))
    analysis = (
        await client.get("/reports/complaints", params={"month": month, "site": "harbour"}, headers=supervisor)
    ).json()
    assert analysis["complaints"] == 2
    assert analysis["by_category"] == {"cleaning": 2}
    assert analysis["by_class"] == {"valid": 1, "venting": 1}
    assert analysis["by_department"] == {"cleaning": 1, "unassigned": 1}
    assert analysis["acknowledge"] == {"met": 1, "missed": 0, "rate": 1.0}
    assert analysis["hot_spots"] == [
        {"site": "harbour", "unit_id": "harbour-A-0101", "category": "cleaning", "requests": 2}
    ]
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    everywhere = (await client.get("/reports/complaints", params={"month": month}, headers=head_office)).json()
    assert everywhere["sites"] == ["harbour", "lakeside", "riverside"] and everywhere["by_site"] == {"harbour": 2}
    assert (await client.get("/reports/complaints", params={"month": "2026-13"}, headers=supervisor)).status_code == 422
    assert (await client.get("/reports/complaints", params={"month": month}, headers=auth(runtime))).status_code == 403


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


async def test_the_daily_report_counts_the_day(intake) -> None:
    runtime, client = intake
    first = await post(client, runtime)
    await post(client, runtime, kind="inquiry", category="charges", in_unit=False, channel="app")
    await move(client, runtime, first["id"], "acknowledged")
    await client.post(
        "/duty-log",
        headers=auth(runtime),
        json={"site": "harbour", "kind": "patrol", "note": "Block B gate latch loose"},
    )
    report = (
        await client.get("/reports/daily", params={"site": "harbour"}, headers=auth(runtime, roles=("supervisor",)))
    ).json()
    assert report["created"] == 2
    assert report["created_by_kind"] == {"repair": 1, "inquiry": 1}
    assert report["created_by_channel"] == {"phone": 1, "app": 1}
    assert report["transitions"] == {"acknowledged": 1}
    assert report["open_now"] == 2 and report["overdue_now"] == 0 and report["duty_log_entries"] == 1


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
