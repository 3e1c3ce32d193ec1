"""Survey: a completed work order schedules one follow-up; reads are scoped by site (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from survey.database import Base, platform_tables
from survey.followup.handlers import subscriptions
from survey.followup.models import FOLLOWUP_DUE_HOURS, FollowUp
from survey.main import create

CONSUMER = "survey-from-dispatch"
COMPLETED = "dispatch.workorder.completed.v1"


@pytest.fixture
async def survey(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="survey", var_dir=tmp_path, database_url=database_urls["survey"])
    await asyncio.to_thread(migrations.upgrade, "survey", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def completed(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{COMPLETED}.json").read_text()), **changes}
    return runtime.catalog.parse({
        "specversion": "1.0", "id": event_id, "source": "pm/dispatch", "type": COMPLETED,
        "subject": data["work_order_id"], "time": "2026-11-23T08:30:01+00:00", "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{COMPLETED}", "site": data["site"], "department": data["department"],
        "correlationid": data["request_id"], "data": data,
    })


def auth(runtime: Runtime, roles=("agent",), sites=("harbour",)) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(runtime.settings, "agent.1", list(roles), list(sites))}


async def outbox_rows(runtime: Runtime) -> list[dict]:
    async with runtime.sessionmaker() as session:
        return [dict(r) for r in (await session.execute(select(runtime.tables.outbox))).mappings()]


async def followups(runtime: Runtime) -> list[FollowUp]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(FollowUp))).all())


async def test_a_completed_work_order_schedules_one_follow_up_even_when_delivered_twice(survey) -> None:
    runtime, _ = survey
    event = completed(runtime, "evt-completed-1")
    assert await apply_event(runtime, CONSUMER, subscriptions.handlers, event) == "handled"
    assert await apply_event(runtime, CONSUMER, subscriptions.handlers, event) == "duplicate"

    [followup] = await followups(runtime)
    assert (followup.request_id, followup.work_order_id, followup.site) == ("req-0001", "wo-0001", "harbour")
    assert (followup.method, followup.status, followup.source_event_id) == ("call", "scheduled", event.id)
    due = followup.due_at if followup.due_at.tzinfo else followup.due_at.replace(tzinfo=UTC)
    assert FOLLOWUP_DUE_HOURS == 24
    assert due == datetime(2026, 11, 23, 8, 30, tzinfo=UTC) + timedelta(hours=24)

    [row] = await outbox_rows(runtime)
    assert row["subject"] == "survey.followup.scheduled.v1.harbour"
    scheduled = runtime.catalog.parse(json.loads(row["payload"]))  # what leaves is what the contract says
    assert scheduled.causationid == event.id
    assert scheduled.correlationid == "req-0001"
    assert scheduled.data["followup_id"] == followup.id
    assert datetime.fromisoformat(scheduled.data["due_at"]) == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert scheduled.data["method"] == "call"


async def test_the_due_time_counts_from_completion_in_any_time_zone(survey) -> None:
    runtime, client = survey
    event = completed(runtime, "evt-completed-tz", completed_at="2026-11-23T18:00:00+08:00")
    await apply_event(runtime, CONSUMER, subscriptions.handlers, event)
    [item] = (await client.get("/follow-ups", params={"site": "harbour"}, headers=auth(runtime))).json()["items"]
    assert datetime.fromisoformat(item["due_at"]) == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_follow_ups_are_read_within_the_callers_sites(survey) -> None:
    runtime, client = survey
    await apply_event(runtime, CONSUMER, subscriptions.handlers, completed(runtime, "evt-h"))
    await apply_event(runtime, CONSUMER, subscriptions.handlers, completed(
        runtime, "evt-r", site="riverside", work_order_id="wo-0002", request_id="req-0002",
        unit_id="riverside-T1-1501"))

    listing = (await client.get("/follow-ups", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listing["total"] == 1
    [item] = listing["items"]
    assert item["request_id"] == "req-0001" and item["status"] == "scheduled"
    unfiltered = (await client.get("/follow-ups", headers=auth(runtime))).json()
    assert [i["id"] for i in unfiltered["items"]] == [item["id"]]
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    assert (await client.get("/follow-ups", headers=head_office)).json()["total"] == 2
    done = await client.get("/follow-ups", params={"site": "harbour", "status": "done"}, headers=auth(runtime))
    assert done.json()["total"] == 0

    detail = await client.get(f"/follow-ups/{item['id']}", headers=auth(runtime))
    assert detail.status_code == 200 and detail.json() == item

    other = await client.get("/follow-ups", params={"site": "riverside"}, headers=auth(runtime))
    assert other.status_code == 403
    assert other.headers["content-type"] == PROBLEM_JSON
    riverside_id = next(i["id"] for i in (await client.get("/follow-ups", headers=head_office)).json()["items"]
                        if i["site"] == "riverside")
    assert (await client.get(f"/follow-ups/{riverside_id}", headers=auth(runtime))).status_code == 403
    assert (await client.get(f"/follow-ups/{riverside_id}", headers=head_office)).status_code == 200
    assert (await client.get("/follow-ups/nope", headers=auth(runtime))).status_code == 404
    assert (await client.get("/follow-ups", headers=auth(runtime, roles=("worker",)))).status_code == 403

    anonymous = await client.get("/follow-ups", params={"site": "harbour"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM_JSON
