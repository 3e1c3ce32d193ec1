"""Dead letters and their replay stay within the operator's sites (billing's app, SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from billing.database import Base, platform_tables
from billing.main import create, subscriptions
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

COMPLETED = "dispatch.workorder.completed.v1"
SECRET_RESULT = "riverside-only: Replaced the tap cartridge"


@pytest.fixture
async def billing(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="billing", var_dir=tmp_path, database_url=database_urls["billing"])
    await asyncio.to_thread(migrations.upgrade, "billing", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def completed(event_id: str, site: str, unit_id: str, result: str) -> dict[str, Any]:
    data = {
        **json.loads((REPO_ROOT / "contracts" / "examples" / f"{COMPLETED}.json").read_text()),
        "site": site,
        "unit_id": unit_id,
        "result": result,
        "work_order_id": f"wo-{event_id}",
    }
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "pm/dispatch",
        "type": COMPLETED,
        "subject": data["work_order_id"],
        "time": "2026-11-23T08:30:01+00:00",
        "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{COMPLETED}",
        "site": site,
        "department": data["department"],
        "correlationid": data["request_id"],
        "data": data,
    }


async def dead_letter(runtime: Runtime, subject: str, document: dict[str, Any] | str) -> int:
    table = runtime.tables.dead_letters
    payload = document if isinstance(document, str) else json.dumps(document)
    async with runtime.sessionmaker() as session:
        result = await session.execute(
            insert(table).values(
                consumer="billing-from-dispatch",
                stream="DISPATCH",
                stream_sequence=1,
                subject=subject,
                event_id=None,
                event_type=COMPLETED,
                payload=payload,
                headers="{}",
                kind="transient",
                reason="KeyError: unit_area",
                deliveries=8,
                status="open",
                created_at=utcnow(),
            )
        )
        await session.commit()
        return int(result.inserted_primary_key[0])


def operator(runtime: Runtime, sites: list[str]) -> dict[str, str]:
    token = mint_token(runtime.settings, "ops", ["operator"], sites)
    return {"Authorization": f"Bearer {token}"}


async def status_of(runtime: Runtime, dead_letter_id: int) -> str:
    table = runtime.tables.dead_letters
    async with runtime.sessionmaker() as session:
        return str((await session.execute(select(table.c.status).where(table.c.id == dead_letter_id))).scalar_one())


async def test_an_operator_lists_and_replays_only_their_own_sites_dead_letters(billing) -> None:
    runtime, client = billing
    harbour = await dead_letter(
        runtime,
        "dispatch.workorder.completed.v1.harbour.engineering",
        completed("e-1", "harbour", "harbour-A-0101", "Replaced the tap cartridge"),
    )
    riverside = await dead_letter(
        runtime,
        "dispatch.workorder.completed.v1.riverside.engineering",
        completed("e-2", "riverside", "riverside-T1-1501", SECRET_RESULT),
    )
    # Filed under harbour's subject, but the payload is riverside's: not replayable by harbour.
    disguised = await dead_letter(
        runtime,
        "dispatch.workorder.completed.v1.harbour.engineering",
        completed("e-3", "riverside", "riverside-T1-1501", SECRET_RESULT),
    )
    siteless = await dead_letter(runtime, "garbage", "not json")

    response = await client.get("/admin/dead-letters", headers=operator(runtime, ["harbour"]))
    assert response.status_code == 200, response.text
    assert sorted(row["id"] for row in response.json()) == [harbour, disguised]
    response = await client.get("/admin/dead-letters", params={"limit": 1}, headers=operator(runtime, ["riverside"]))
    assert [row["id"] for row in response.json()] == [riverside]
    response = await client.get("/admin/dead-letters", headers=operator(runtime, ["*"]))
    assert sorted(row["id"] for row in response.json()) == [harbour, riverside, disguised, siteless]

    for foreign in (riverside, disguised, siteless):
        response = await client.post(f"/admin/dead-letters/{foreign}/replay", headers=operator(runtime, ["harbour"]))
        assert response.status_code == 404, response.text
        assert SECRET_RESULT not in response.text
        assert await status_of(runtime, foreign) == "open"

    response = await client.post(f"/admin/dead-letters/{harbour}/replay", headers=operator(runtime, ["harbour"]))
    assert response.status_code == 200, response.text
    assert await status_of(runtime, harbour) == "replayed"
    response = await client.post(f"/admin/dead-letters/{riverside}/replay", headers=operator(runtime, ["riverside"]))
    assert response.status_code == 200, response.text
