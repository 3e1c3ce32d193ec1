"""Helpers the intake tests share: tokens, envelopes of other services' events, the outbox, HTTP calls."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import delete, select

from intake.database import Base, platform_tables
from intake.main import subscriptions
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

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


def owner_auth(runtime: Runtime, party_id: str = "harbour-A-0101-owner") -> dict[str, str]:
    """An owner's own token, as the portal mints it: role owner, scoped to their party."""
    token = mint_token(runtime.settings, party_id, ["owner"], ["harbour"], party_id=party_id)
    return {"Authorization": "Bearer " + token}


async def send(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any] | None = None, status: int = 200
) -> dict[str, Any]:
    """POST a command and check its status; the answer's body."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def fetch(client: httpx.AsyncClient, headers: dict[str, str], path: str, status: int = 200) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == status, response.text
    return response.json()
