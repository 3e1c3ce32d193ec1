"""billing.settlement: intake's settlement requests answered from the unit's real account (a unit in arrears is not
cleared; a later payment that clears it answers again), on SQLite and PostgreSQL; then the whole move-out across
intake and billing on a real nats-server: the keys stay refused until billing's answer clears the account."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import billing.main
import intake.main
from billing.seed import seed as seed_billing
from intake.seed import seed as seed_intake
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.natsserver import NatsServer
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from tests.platform.harness import eventually, provision
from tests.services.billing.helpers import HARBOUR_FEES, INTAKE, UNIT, auth, events_of, payment
from tests.services.support import outbox_events

REQUESTED = "intake.occupancy.settlement_requested.v1"
CONFIRMED = "billing.settlement.confirmed.v1"


def settlement_requested(runtime: Runtime, settlement_id: str, unit_id: str = UNIT, **changes: Any) -> Envelope:
    data = {
        **json.loads((REPO_ROOT / "contracts" / "examples" / f"{REQUESTED}.json").read_text()),
        "settlement_id": settlement_id,
        "unit_id": unit_id,
        "party_id": f"{unit_id}-owner",
        **changes,
    }
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": f"evt-{settlement_id}",
            "source": "pm/intake",
            "type": REQUESTED,
            "subject": settlement_id,
            "time": "2026-12-02T03:10:00+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{REQUESTED}",
            "site": "harbour",
            "correlationid": settlement_id,
            "data": data,
        }
    )


async def answers(runtime: Runtime) -> list[dict[str, Any]]:
    return [e.data for e in events_of(await outbox_events(runtime), CONFIRMED)]


async def test_a_settlement_is_answered_from_the_account_and_again_once_a_payment_clears_it(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert issued.status_code in (200, 201), issued.text

    # A-0101 owes its October fee: not cleared, the amount owed named. (Moving out on 1 November, the first day of a
    # period not billed yet: no occupied day of it to charge.)
    event = settlement_requested(runtime, "mo-1", move_out_date="2026-11-01")
    assert await apply_event(runtime, INTAKE, billing.main.subscriptions.handlers, event) == "handled"
    assert await apply_event(runtime, INTAKE, billing.main.subscriptions.handlers, event) == "duplicate"
    [first] = await answers(runtime)
    assert first | {"confirmed_at": None} == {
        "settlement_id": "mo-1",
        "procedure": "move_out",
        "site": "harbour",
        "unit_id": UNIT,
        "party_id": f"{UNIT}-owner",
        "balance_cents": HARBOUR_FEES[UNIT],
        "owed_cents": HARBOUR_FEES[UNIT],
        "cleared": False,
        "currency": "CNY",
        "final_charges_cents": 0,
        "confirmed_at": None,
    }
    # The unsold B-0302 owes nothing: cleared at once (a transfer asks the same way).
    empty = settlement_requested(runtime, "tr-1", "harbour-B-0302", procedure="transfer", final_readings=[])
    await apply_event(runtime, INTAKE, billing.main.subscriptions.handlers, empty)
    assert [(a["settlement_id"], a["cleared"], a["owed_cents"]) for a in await answers(runtime)][1] == ("tr-1", True, 0)

    # A part payment clears nothing: no new answer. The rest clears it: billing answers again, cleared.
    assert (await client.post("/payments", json=payment("P-1", 10000), headers=clerk)).status_code == 201
    assert len(await answers(runtime)) == 2
    rest = HARBOUR_FEES[UNIT] - 10000
    assert (await client.post("/payments", json=payment("P-2", rest), headers=clerk)).status_code == 201
    last = (await answers(runtime))[-1]
    assert (last["settlement_id"], last["cleared"], last["owed_cents"], last["balance_cents"]) == ("mo-1", True, 0, 0)
    assert (await client.post("/payments", json=payment("P-3", 500), headers=clerk)).status_code == 201
    assert len(await answers(runtime)) == 3  # answered once: a cleared settlement is not answered again

    listing = (await client.get("/settlements", params={"site": "harbour"}, headers=clerk)).json()
    assert {(s["id"], s["cleared"]) for s in listing["items"]} == {("mo-1", True), ("tr-1", True)}
    assert listing["total"] == 2
    readings = next(s for s in listing["items"] if s["id"] == "mo-1")["final_readings"]
    assert readings == [
        {"meter": "water", "value": "88.0", "photo": None},
        {"meter": "electricity", "value": "1520.4", "photo": None},
    ]
    assert (await client.get("/settlements", params={"cleared": False}, headers=clerk)).json()["total"] == 0
    elsewhere = await client.get("/settlements", headers=auth(runtime, sites=("riverside",)))
    assert elsewhere.json()["total"] == 0
    owner = mint_token(runtime.settings, "o", ["owner"], ["harbour"], party_id=f"{UNIT}-owner")
    assert (await client.get("/settlements", headers={"Authorization": f"Bearer {owner}"})).status_code == 403


# --- across intake and billing, on a real nats-server -----------------------------------------------------


@pytest.fixture
async def live(
    database_urls: dict[str, str], nats_server: NatsServer, tmp_path: Path
) -> AsyncIterator[dict[str, tuple[Runtime, httpx.AsyncClient]]]:
    await provision(nats_server.url)
    started: dict[str, tuple[Runtime, httpx.AsyncClient]] = {}
    try:
        for name, main, seed in (("billing", billing.main, seed_billing), ("intake", intake.main, seed_intake)):
            settings = Settings(
                service=name,
                database_url=database_urls[name],
                nats_url=nats_server.url,
                var_dir=tmp_path,
                relay_idle_seconds=0.05,
                consumer_retry_base_seconds=0.2,
            )
            await asyncio.to_thread(migrations.upgrade, name, settings)
            runtime = Runtime(settings, main.Base.metadata, main.platform_tables, main.subscriptions)
            await seed(runtime)
            await runtime.start()
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=main.create(runtime)), base_url=f"http://{name}"
            )
            started[name] = (runtime, client)
        yield started
    finally:
        for runtime, client in started.values():
            await client.aclose()
            await runtime.stop()


@pytest.mark.timeout(180)
async def test_a_move_out_in_arrears_gets_its_keys_back_once_the_payment_clears_billings_settlement(live) -> None:
    billing_runtime, billing_api = live["billing"]
    intake_runtime, intake_api = live["intake"]
    clerk = auth(billing_runtime)
    agent = {"Authorization": "Bearer " + mint_token(intake_runtime.settings, "agent.harbour", ["agent"], ["harbour"])}
    issued = await billing_api.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert issued.status_code in (200, 201), issued.text

    opened = await intake_api.post(
        f"/units/{UNIT}/move-outs", json={"party_id": f"{UNIT}-owner", "day": "2026-12-31"}, headers=agent
    )
    assert opened.status_code == 201, opened.text
    move_out = f"/move-outs/{opened.json()['id']}"
    readings = {"readings": [{"meter": "water", "value": "88.0"}]}
    assert (await intake_api.post(f"{move_out}/items/final_readings", json=readings, headers=agent)).status_code == 200
    assert (await intake_api.post(f"{move_out}/request-settlement", headers=agent)).status_code == 200

    # Billing charged December to the move-out day first: 30 of its 31 days, 250.60 x 30 / 31 = 242.516 -> 242.52.
    owing = HARBOUR_FEES[UNIT] + 24252

    async def owed() -> bool:
        body = (await intake_api.get(move_out, headers=agent)).json()
        return bool(body["owed_cents"] == owing and body["settlement_cleared"] is False)

    await eventually(owed)
    keys = {"keys": [{"number": "A0101-1"}]}
    refused = await intake_api.post(f"{move_out}/return-keys", json=keys, headers=agent)
    assert refused.status_code == 409 and refused.json()["current_status"] == "settlement_requested"

    paid = await billing_api.post("/payments", json=payment("BANK-77", owing), headers=clerk)
    assert paid.status_code == 201, paid.text

    async def settled() -> bool:
        return bool((await intake_api.get(move_out, headers=agent)).json()["status"] == "settled")

    await eventually(settled)
    returned = await intake_api.post(f"{move_out}/return-keys", json=keys, headers=agent)
    assert returned.status_code == 200 and returned.json()["status"] == "keys_returned"
