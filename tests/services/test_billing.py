"""Billing: the charge of a paid in-unit repair lands on the unit's account once (SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from billing.account.handlers import subscriptions
from billing.account.models import Charge
from billing.database import Base, platform_tables
from billing.main import create
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

CONSUMER = "billing-from-dispatch"
COMPLETED = "dispatch.workorder.completed.v1"
UNIT = "harbour-A-0101"


@pytest.fixture
async def billing(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="billing", var_dir=tmp_path, database_url=database_urls["billing"])
    await asyncio.to_thread(migrations.upgrade, "billing", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def completed(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    """A dispatch.workorder.completed.v1 envelope around the contract's example, with ``changes`` to its data."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{COMPLETED}.json").read_text()), **changes}
    return runtime.catalog.parse({
        "specversion": "1.0", "id": event_id, "source": "pm/dispatch", "type": COMPLETED,
        "subject": data["work_order_id"], "time": "2026-11-23T08:30:01+00:00", "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{COMPLETED}", "site": data["site"], "department": data["department"],
        "correlationid": data["request_id"], "data": data,
    })


def auth(runtime: Runtime, roles=("billing_clerk",), sites=("harbour",)) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(runtime.settings, "clerk.1", list(roles), list(sites))}


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, CONSUMER, subscriptions.handlers, event)


async def outbox_events(runtime: Runtime) -> list[tuple[str, Envelope]]:
    outbox = runtime.tables.outbox
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    return [(row["subject"], runtime.catalog.parse(json.loads(row["payload"]))) for row in rows]


async def charges(runtime: Runtime) -> list[Charge]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(Charge).order_by(Charge.recorded_at))).all())


async def test_a_completed_in_unit_repair_with_a_charge_is_recorded_once(billing) -> None:
    runtime, _ = billing
    event = completed(runtime, "evt-completed-1")
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"

    [charge] = await charges(runtime)
    assert (charge.site, charge.unit_id, charge.item) == ("harbour", UNIT, "Tap cartridge replacement")
    assert (charge.amount_cents, charge.currency) == (8000, "CNY")
    assert (charge.request_id, charge.work_order_id, charge.source_event_id) == ("req-0001", "wo-0001", event.id)

    [(subject, recorded)] = await outbox_events(runtime)
    assert subject == "billing.charge.recorded.v1.harbour"
    assert (recorded.type, recorded.correlationid, recorded.causationid) == (
        "billing.charge.recorded.v1", "req-0001", event.id)
    assert recorded.data["charge_id"] == charge.id
    assert (recorded.data["amount_cents"], recorded.data["unit_id"]) == (8000, UNIT)


@pytest.mark.parametrize(
    "changes",
    [{"charge": None}, {"in_unit": False, "unit_id": None}, {"in_unit": False}, {"unit_id": None}],
    ids=["no-charge", "common-area", "not-in-unit", "no-unit"],
)
async def test_a_completion_without_a_billable_charge_records_nothing(billing, changes) -> None:
    runtime, _ = billing
    event = completed(runtime, "evt-completed-1", **changes)
    assert await apply(runtime, event) == "handled"
    assert await charges(runtime) == []
    assert await outbox_events(runtime) == []


async def test_a_units_account_sums_its_charges_within_the_callers_site(billing) -> None:
    runtime, client = billing
    await apply(runtime, completed(runtime, "evt-1"))
    await apply(runtime, completed(runtime, "evt-2", work_order_id="wo-0002", request_id="req-0002",
                                   charge={"item": "Lock cylinder", "amount_cents": 1550, "currency": "CNY"}))
    await apply(runtime, completed(runtime, "evt-3", site="riverside", unit_id="riverside-T1-1501",
                                   work_order_id="wo-0003", request_id="req-0003"))

    response = await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))
    assert response.status_code == 200, response.text
    account = response.json()
    assert (account["unit_id"], account["site"], account["balance_cents"]) == (UNIT, "harbour", 9550)
    assert account["balances"] == {"CNY": 9550}
    assert sorted(c["amount_cents"] for c in account["charges"]) == [1550, 8000]

    empty = (await client.get("/accounts/harbour-B-0302", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert (empty["balance_cents"], empty["charges"], empty["balances"]) == (0, [], {})

    agent = auth(runtime, roles=("agent",))
    assert (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=agent)).status_code == 200
    missing_site = await client.get(f"/accounts/{UNIT}", headers=auth(runtime))
    assert missing_site.status_code == 422 and missing_site.json()["field"] == "query.site"
    other_site = await client.get("/accounts/riverside-T1-1501", params={"site": "riverside"}, headers=auth(runtime))
    assert other_site.status_code == 403
    assert other_site.headers["content-type"] == PROBLEM_JSON
    worker = auth(runtime, roles=("worker",))
    assert (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=worker)).status_code == 403
    anonymous = await client.get(f"/accounts/{UNIT}", params={"site": "harbour"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM_JSON

    listing = (await client.get("/charges", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listing["total"] == 2 and {c["site"] for c in listing["items"]} == {"harbour"}
    assert (await client.get("/charges", headers=auth(runtime))).json()["total"] == 2
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    assert (await client.get("/charges", headers=head_office)).json()["total"] == 3
    by_unit = await client.get("/charges", params={"unit_id": "riverside-T1-1501"}, headers=head_office)
    assert [c["work_order_id"] for c in by_unit.json()["items"]] == ["wo-0003"]
    paged = (await client.get("/charges", params={"limit": 1, "offset": 1}, headers=head_office)).json()
    assert (paged["total"], len(paged["items"])) == (3, 1)
    assert (await client.get("/charges", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403
