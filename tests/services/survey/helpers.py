"""Helpers the survey tests share: settings, events from dispatch and intake, households, tokens, reads."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from survey.followup.models import FollowUp
from survey.main import subscriptions

COMPLETED = "dispatch.workorder.completed.v1"
STATUS_CHANGED = "intake.request.status_changed.v1"
CONSUMERS = {"dispatch": "survey-from-dispatch", "intake": "survey-from-intake", "billing": "survey-from-billing"}


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(service="survey", var_dir=tmp_path, database_url=url)


def example(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.json").read_text())
    return data


def envelope(runtime: Runtime, event_type: str, event_id: str, data: dict[str, Any]) -> Envelope:
    contract = runtime.catalog.contract(event_type)
    document = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"pm/{contract.producer}",
        "type": event_type,
        "subject": data.get("request_id") or data.get("party_id") or data.get("unit_id"),
        "time": "2026-11-23T08:30:01+00:00",
        "datacontenttype": "application/json",
        "dataschema": contract.dataschema,
        "site": data["site"],
        "correlationid": data.get("request_id") or event_id,
        "data": data,
    }
    if contract.has_department:
        document["department"] = data["department"]
    return runtime.catalog.parse(document)


async def feed(runtime: Runtime, event_type: str, event_id: str, **changes: Any) -> str:
    event = envelope(runtime, event_type, event_id, {**example(event_type), **changes})
    return await apply_event(runtime, CONSUMERS[event_type.split(".")[0]], subscriptions.handlers, event)


async def complete_work(
    runtime: Runtime,
    n: int,
    *,
    site: str = "harbour",
    unit: str = "harbour-A-0101",
    at: datetime | None = None,
    request_id: str | None = None,
) -> None:
    await feed(
        runtime,
        COMPLETED,
        f"evt-done-{n}-{request_id}",
        site=site,
        unit_id=unit,
        request_id=request_id or f"req-{n}",
        work_order_id=f"wo-{n}-{request_id}",
        completed_at=(at or utcnow()).isoformat(),
    )


async def household(
    runtime: Runtime,
    unit_id: str,
    *,
    site: str = "harbour",
    building: str = "A",
    role: str = "owner",
    party_id: str | None = None,
    occupied: bool = True,
) -> str:
    party_id = party_id or f"{unit_id}-{role}"
    stamp = "2026-11-01T00:00:00+00:00"
    await feed(
        runtime,
        "intake.unit.upserted.v1",
        f"evt-unit-{unit_id}",
        unit_id=unit_id,
        site=site,
        building=building,
        number=unit_id.split("-", 1)[1],
        occupied=occupied,
        updated_at=stamp,
    )
    await feed(
        runtime,
        "intake.party.upserted.v1",
        f"evt-party-{party_id}",
        party_id=party_id,
        site=site,
        unit_id=unit_id,
        role=role,
        name=f"Owner of {unit_id}",
        updated_at=stamp,
    )
    return party_id


def auth(
    runtime: Runtime, roles=("agent",), sites=("harbour",), party_id: str | None = None, subject: str = "agent.1"
) -> dict[str, str]:
    token = mint_token(runtime.settings, subject, list(roles), list(sites), party_id=party_id)
    return {"Authorization": "Bearer " + token}


def supervisor(runtime: Runtime, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("supervisor",), sites=(site,), subject=f"supervisor.{site}")


def owner(runtime: Runtime, party_id: str, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("owner",), sites=(site,), party_id=party_id, subject=party_id)


async def outbox(runtime: Runtime, event_type: str | None = None) -> list[Envelope]:
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(runtime.tables.outbox).order_by(runtime.tables.outbox.c.id))).mappings()
        events = [runtime.catalog.parse(json.loads(r["payload"])) for r in rows]
    return [e for e in events if event_type is None or e.type == event_type]


async def followups(runtime: Runtime) -> list[FollowUp]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(FollowUp).order_by(FollowUp.created_at))).all())


async def only_followup(runtime: Runtime, request_id: str) -> FollowUp:
    [followup] = [f for f in await followups(runtime) if f.request_id == request_id]
    return followup


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if field is not None:
        assert response.json()["field"] == field, response.json()


def _questionnaire(**changes: Any) -> dict[str, Any]:
    return {
        "site": "harbour",
        "title": "Harbour satisfaction 2026",
        "questions": [
            {"kind": "scale", "text": "Cleaning of public areas", "department": "cleaning"},
            {"kind": "scale", "text": "Repairs", "department": "engineering"},
            {"kind": "choice", "text": "How do you prefer to be contacted?", "options": ["phone", "app", "sms"]},
            {"kind": "text", "text": "Anything else?", "required": False},
        ],
        **changes,
    }
