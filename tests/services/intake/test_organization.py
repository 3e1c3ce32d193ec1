"""intake.organization: the seeded archive, tenants moving in and out, the site's taxonomy and who reads a unit
(on SQLite and PostgreSQL, no NATS).
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from intake.organization.models import Limit, TimeLimitRule
from intake.organization.service import mask_phone, most_specific
from intake.seed import seed
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.settings import Settings
from tests.services.intake.helpers import REPAIR, auth, clear_outbox, events, new_runtime, outbox_rows, post


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


async def test_an_owner_reads_their_own_unit_and_no_other(intake) -> None:
    runtime, client = intake

    def owner(party_id: str | None, subject: str = "owner.app") -> dict[str, str]:
        token = mint_token(runtime.settings, subject, ["owner"], ["harbour"], party_id=party_id)
        return {"Authorization": "Bearer " + token}

    li = owner("harbour-A-0101-owner")
    response = await client.get("/units/harbour-A-0101", headers=li)
    assert response.status_code == 200, response.text
    unit = response.json()
    assert unit["id"] == "harbour-A-0101"
    # Who lives there, with contacts masked (an owner is not staff).
    [me] = [p for p in unit["parties"] if p["id"] == "harbour-A-0101-owner"]
    assert me["phone"] == "138****0001"
    for other in ("harbour-A-0102", "riverside-T1-1501"):
        denied = await client.get(f"/units/{other}", headers=li)
        assert denied.status_code == 403 and denied.json()["field"] in ("unit_id", "site"), denied.text
    nobody = await client.get("/units/harbour-A-0101", headers=owner(None))
    assert nobody.status_code == 403 and nobody.json()["field"] == "unit_id"
    # The rest of the archive stays staff-only.
    assert (await client.get("/sites/harbour/units", headers=li)).status_code == 403
    assert (await client.get("/units/harbour-A-0101/parties", headers=li)).status_code == 403


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


def rule(limit: Limit, kind: str | None, priority: str | None, minutes: int) -> TimeLimitRule:
    return TimeLimitRule(site="harbour", limit=limit, kind=kind, priority=priority, minutes=minutes, warning_minutes=5)


@pytest.mark.unit
def test_unit_the_most_specific_time_limit_rule_wins() -> None:
    rules = [
        rule(Limit.acknowledge, None, None, 120),
        rule(Limit.acknowledge, None, "urgent", 30),
        rule(Limit.acknowledge, "complaint", None, 60),
        rule(Limit.acknowledge, "complaint", "urgent", 15),
        rule(Limit.progress_reply, "repair", "urgent", 240),
    ]

    def minutes(kind: str, priority: str, limit: Limit = Limit.acknowledge) -> int | None:
        best = most_specific(rules, limit, kind, priority)
        return None if best is None else best.minutes

    assert minutes("repair", "normal") == 120  # only the rule for any request fits
    assert minutes("repair", "urgent") == 30
    assert minutes("complaint", "normal") == 60  # naming the kind beats naming the priority
    assert minutes("complaint", "urgent") == 15
    assert minutes("repair", "urgent", Limit.progress_reply) == 240
    assert minutes("repair", "normal", Limit.progress_reply) is None  # the default applies
    assert most_specific([], Limit.acknowledge, "repair", "normal") is None


@pytest.mark.unit
def test_unit_a_masked_phone_keeps_its_first_three_and_last_four_digits() -> None:
    assert mask_phone("13800000001") == "138****0001"
    assert mask_phone("138 0000-0001") == "138****0001"
    assert mask_phone("12345678") == "123*5678"
    assert mask_phone("1234") == "****"
    assert mask_phone("") == ""
    assert mask_phone(None) is None
