"""Helpers the dispatch tests share: tokens, intake's request events, work orders opened and acted on, staff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dispatch.workorder.handlers import subscriptions
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT

CONSUMER = "dispatch-from-intake"
CREATED = "intake.request.created.v1"


def request_created(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    """An intake.request.created.v1 envelope around the contract's example, with ``changes`` to its data."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{CREATED}.json").read_text()), **changes}
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/intake",
            "type": CREATED,
            "subject": data["request_id"],
            "time": "2026-11-23T08:30:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{CREATED}",
            "site": data["site"],
            "correlationid": data["request_id"],
            "data": data,
        }
    )


def auth(
    runtime: Runtime, roles=("agent",), sites=("harbour",), department: str | None = None, subject: str = "staff.1"
) -> dict[str, str]:
    token = mint_token(runtime.settings, subject, list(roles), list(sites), department)
    return {"Authorization": "Bearer " + token}


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, CONSUMER, subscriptions.handlers, event)


async def open_order(
    runtime: Runtime, client: httpx.AsyncClient, event_id: str = "evt-1", **changes: Any
) -> dict[str, Any]:
    await apply(runtime, request_created(runtime, event_id, **changes))
    request_id = changes.get("request_id", "req-0001")
    listing = (await client.get("/work-orders", headers=auth(runtime, roles=("supervisor",)))).json()
    return next(item for item in listing["items"] if item["request_id"] == request_id)


EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]
ALWAYS = [{"days": EVERY_DAY, "start": "00:00", "end": "12:00"}, {"days": EVERY_DAY, "start": "12:00", "end": "00:00"}]


def supervisor(runtime: Runtime, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("supervisor",), sites=(site,), subject="sup.harbour")


def worker(runtime: Runtime, subject: str, department: str = "engineering", site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("worker",), sites=(site,), department=department, subject=subject)


def now_iso(minutes_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


async def new_order(runtime: Runtime, client: httpx.AsyncClient, request_id: str, **changes: Any) -> dict[str, Any]:
    """A request recorded just now (unless ``created_at`` says otherwise), without an appointment."""
    changes = {"created_at": now_iso(), "appointment": None, **changes}
    return await open_order(runtime, client, f"evt-{request_id}", request_id=request_id, **changes)


async def act(
    client: httpx.AsyncClient,
    order: dict[str, Any],
    action: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(f"/work-orders/{order['id']}/{action}", json=body, headers=headers)


async def put_staff(
    client: httpx.AsyncClient,
    runtime: Runtime,
    department: str,
    staff_id: str,
    shifts: list[dict[str, Any]],
    skills: tuple[str, ...] = (),
    active: bool = True,
) -> None:
    response = await client.put(
        f"/departments/{department}/staff/{staff_id}",
        params={"site": "harbour"},
        json={"name": staff_id.title(), "skills": list(skills), "shifts": shifts, "active": active},
        headers=supervisor(runtime),
    )
    assert response.status_code == 200, response.text
