"""billing.directory: the slim copy of intake's units and parties (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from dataclasses import astuple

import pytest
from sqlalchemy import select

from billing.directory.models import Party, Unit
from billing.directory.service import choose_payer, payers, site_payer_ids, site_units
from pm_platform.auth import mint_token
from tests.services.billing.helpers import UNIT, apply_intake, auth, intake_event
from tests.services.support import outbox_events


async def test_units_and_parties_are_copied_idempotently_and_stale_events_are_ignored(billing) -> None:
    runtime, client = billing
    unit_type, party_type = "intake.unit.upserted.v1", "intake.party.upserted.v1"
    first = intake_event(runtime, unit_type, "u-1")
    assert await apply_intake(runtime, first) == "handled"
    assert await apply_intake(runtime, first) == "duplicate"
    newer = intake_event(
        runtime,
        unit_type,
        "u-2",
        area_m2="90.00",
        paying_party_id="harbour-A-0101-tenant",
        updated_at="2026-11-23T09:00:00+00:00",
    )
    # Arrives after the newer one although written before it: ignored.
    older = intake_event(runtime, unit_type, "u-3", area_m2="10.00", updated_at="2026-11-23T07:00:00+00:00")
    assert await apply_intake(runtime, newer) == "handled"
    assert await apply_intake(runtime, older) == "handled"

    owner = intake_event(runtime, party_type, "p-1")
    tenant = intake_event(
        runtime,
        party_type,
        "p-2",
        party_id="harbour-A-0101-tenant",
        role="tenant",
        name="Tenant Tan",
        phone="13911112222",
        email=None,
        pays=True,
    )
    stale_owner = intake_event(runtime, party_type, "p-3", name="Old Name", updated_at="2026-01-01T00:00:00+00:00")
    for event in (owner, tenant, stale_owner):
        assert await apply_intake(runtime, event) == "handled"

    async with runtime.sessionmaker() as session:
        unit = await session.get(Unit, UNIT)
        assert unit is not None and (str(unit.area_m2), unit.paying_party_id) == ("90.00", "harbour-A-0101-tenant")
        party = await session.get(Party, "harbour-A-0101-owner")
        assert party is not None and party.name == "Li Wei"
    assert await outbox_events(runtime) == []  # a copy changes no account

    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert account["unit"]["area_m2"] == "90.00"
    assert account["payer"] == {
        "party_id": "harbour-A-0101-tenant",
        "name": "Tenant Tan",
        "phone": "13911112222",
        "email": None,
        "language": "zh-CN",
    }
    agent_view = (
        await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime, roles=("agent",)))
    ).json()
    assert agent_view["payer"]["phone"] == "139****2222"

    # An owner reads their own unit's account, nobody else's.
    owner_token = mint_token(runtime.settings, "owner.li", ["owner"], ["harbour"], party_id="harbour-A-0101-owner")
    as_owner = {"Authorization": f"Bearer {owner_token}"}
    own = await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=as_owner)
    assert own.status_code == 200 and own.json()["unit_id"] == UNIT
    neighbour = await client.get("/accounts/harbour-A-0102", params={"site": "harbour"}, headers=as_owner)
    assert neighbour.status_code == 403 and neighbour.json()["field"] == "unit_id"
    assert (await client.get("/charges", params={"site": "harbour"}, headers=as_owner)).status_code == 403

    # The tenant moves out: the owner pays again.
    moved_out = intake_event(
        runtime,
        party_type,
        "p-4",
        party_id="harbour-A-0101-tenant",
        role="tenant",
        name="Tenant Tan",
        active=False,
        pays=False,
        updated_at="2026-11-23T10:00:00+00:00",
    )
    assert await apply_intake(runtime, moved_out) == "handled"
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert account["payer"]["party_id"] == "harbour-A-0101-owner"


async def test_a_runs_site_wide_reads_find_the_units_and_payers_the_per_unit_reads_find(seeded) -> None:
    """A billing run reads a site's units and payers as plain rows in one statement each: the same units, and the
    same paying party per unit, as the ORM reads the rest of billing uses."""
    runtime, _ = seeded
    tenant = intake_event(
        runtime, "intake.party.upserted.v1", "p-t", party_id=f"{UNIT}-tenant", role="tenant", name="T", pays=True
    )
    unnamed = intake_event(
        runtime, "intake.unit.upserted.v1", "u-n", paying_party_id=None, updated_at="2026-11-23T09:00:00+00:00"
    )
    for event in (tenant, unnamed):  # a paying tenant beside the owner, and intake names neither
        assert await apply_intake(runtime, event) == "handled"
    async with runtime.sessionmaker() as session:
        rows = await site_units(session, "harbour")
        units = (await session.scalars(select(Unit).where(Unit.site == "harbour").order_by(Unit.id))).all()
        assert [astuple(row) for row in rows] == [
            (u.id, u.building, u.area_m2, u.use, u.occupied, u.paying_party_id) for u in units
        ]
        found = await payers(session, {u.id: u for u in units}, [u.id for u in units])
        assert await site_payer_ids(session, "harbour", rows) == {unit_id: p.id for unit_id, p in found.items()}
        assert len(found) < len(units)  # one unit has no payer


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_the_payer_is_the_party_intake_names_else_one_marked_paying_else_the_owner() -> None:
    def party(party_id: str, role: str = "tenant", pays: bool = False, active: bool = True) -> Party:
        return Party(id=party_id, role=role, pays=pays, active=active)

    owner, tenant, payer = party("owner", role="owner"), party("tenant"), party("payer", pays=True)
    assert choose_payer(Unit(id="u", paying_party_id="tenant"), [owner, tenant, payer]) is tenant
    assert choose_payer(Unit(id="u", paying_party_id="gone"), [owner, tenant, payer]) is payer
    assert choose_payer(None, [tenant, owner]) is owner
    # A party that moved out no longer pays, even when intake still names it.
    moved_out = party("moved", role="owner", pays=True, active=False)
    assert choose_payer(Unit(id="u", paying_party_id="moved"), [moved_out, tenant]) is None
    assert choose_payer(None, []) is None
