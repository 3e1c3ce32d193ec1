"""Intake over HTTP (no NATS: the runtime is not started) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from intake.database import Base, platform_tables
from intake.main import create
from intake.request.handlers import subscriptions
from intake.seed import seed
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

REPAIR = {
    "site": "harbour", "kind": "repair", "category": "water", "description": "Kitchen tap leaking",
    "unit_id": "harbour-A-0101", "in_unit": True, "reporter": {"name": "Li Wei", "phone": "13800000001"},
}


@pytest.fixture
async def intake(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="intake", var_dir=tmp_path, database_url=database_urls["intake"])
    await asyncio.to_thread(migrations.upgrade, "intake", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    await seed(runtime)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def auth(runtime: Runtime, roles=("agent",), sites=("harbour",)) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(runtime.settings, "agent.1", list(roles), list(sites))}


async def outbox_rows(runtime: Runtime) -> list[dict]:
    async with runtime.sessionmaker() as session:
        return [dict(r) for r in (await session.execute(select(runtime.tables.outbox))).mappings()]


async def test_posting_a_request_commits_it_with_its_event_in_the_outbox(intake) -> None:
    runtime, client = intake
    response = await client.post("/requests", json=REPAIR, headers=auth(runtime))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "new"
    [row] = await outbox_rows(runtime)
    assert row["subject"] == "intake.request.created.v1.harbour"
    assert row["status"] == "pending"
    event = json.loads(row["payload"])
    assert event["data"]["request_id"] == created["id"] == event["correlationid"]
    runtime.catalog.parse(event)  # what left is what the contract says

    detail = (await client.get(f"/requests/{created['id']}", headers=auth(runtime))).json()
    assert [entry["event_type"] for entry in detail["timeline"]] == ["intake.request.created.v1"]
    listing = (await client.get("/requests", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == created["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "wish"}, "kind"),
        ({"category": "Water Leak"}, "category"),
        ({"reporter": {"name": ""}}, "reporter.name"),
        ({"reporter": {"name": "x", "phone": "call me"}}, "reporter.phone"),
        ({"site": "har.bour"}, "site"),
        ({"appointment": {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"}}, "appointment"),
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
    response = await client.post("/requests", json={**REPAIR, "site": "riverside", "unit_id": "riverside-T1-1501"},
                                 headers=auth(runtime))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    worker = auth(runtime, roles=("worker",))
    assert (await client.post("/requests", json=REPAIR, headers=worker)).status_code == 403
    assert (await client.get("/requests", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403
    assert (await client.get("/requests")).status_code == 401


async def test_work_order_events_move_the_request_on_and_fill_its_timeline(intake) -> None:
    runtime, client = intake
    created = (await client.post("/requests", json=REPAIR, headers=auth(runtime))).json()
    examples = REPO_ROOT / "contracts" / "examples"
    for event_type in ("dispatch.workorder.created.v1", "dispatch.workorder.completed.v1"):
        data = {**json.loads((examples / f"{event_type}.json").read_text()), "request_id": created["id"]}
        envelope = runtime.catalog.parse({
            "specversion": "1.0", "id": f"evt-{event_type}", "source": "pm/dispatch", "type": event_type,
            "subject": data["work_order_id"], "time": "2026-11-23T09:00:00+00:00",
            "datacontenttype": "application/json", "dataschema": f"urn:pm:contracts:{event_type}",
            "site": "harbour", "department": "engineering", "correlationid": created["id"], "data": data,
        })
        assert await apply_event(runtime, "intake-from-dispatch", subscriptions.handlers, envelope) == "handled"
        assert await apply_event(runtime, "intake-from-dispatch", subscriptions.handlers, envelope) == "duplicate"
    detail = (await client.get(f"/requests/{created['id']}", headers=auth(runtime))).json()
    assert detail["status"] == "resolved"
    assert [e["source"] for e in detail["timeline"]] == ["intake", "dispatch", "dispatch"]
