"""Billing on SQLite and PostgreSQL (no NATS): repair charges from completed work orders, the slim copy of units
and parties from intake, billing periods, payments with receipts, arrears, collection rate, status events and
who may see and do what."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from billing.account import service as account_service
from billing.account.models import Charge
from billing.database import Base, platform_tables
from billing.directory.models import Party, Unit
from billing.main import create, subscriptions, timers
from billing.period import service as period_service
from billing.seed import seed
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from pm_platform.timers import fire_due
from tests.services.support import outbox_events

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
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/dispatch",
            "type": COMPLETED,
            "subject": data["work_order_id"],
            "time": "2026-11-23T08:30:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{COMPLETED}",
            "site": data["site"],
            "department": data["department"],
            "correlationid": data["request_id"],
            "data": data,
        }
    )


def auth(runtime: Runtime, roles=("billing_clerk",), sites=("harbour",)) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(runtime.settings, "clerk.1", list(roles), list(sites))}


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, CONSUMER, subscriptions.handlers, event)


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

    [(subject, recorded), (status_subject, status)] = await outbox_events(runtime)
    assert subject == "billing.charge.recorded.v1.harbour"
    assert status_subject == "billing.account.status_changed.v1.harbour"
    assert (status.data["unit_id"], status.data["balance_cents"], status.causationid) == (UNIT, 8000, event.id)
    assert (recorded.type, recorded.correlationid, recorded.causationid) == (
        "billing.charge.recorded.v1",
        "req-0001",
        event.id,
    )
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
    await apply(
        runtime,
        completed(
            runtime,
            "evt-2",
            work_order_id="wo-0002",
            request_id="req-0002",
            charge={"item": "Lock cylinder", "amount_cents": 1550, "currency": "CNY"},
        ),
    )
    await apply(
        runtime,
        completed(
            runtime,
            "evt-3",
            site="riverside",
            unit_id="riverside-T1-1501",
            work_order_id="wo-0003",
            request_id="req-0003",
        ),
    )

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


# --- the slim copy of units and parties ----------------------------------------------------------------

INTAKE = "billing-from-intake"


def intake_event(runtime: Runtime, event_type: str, event_id: str, **changes: Any) -> Envelope:
    """An intake.unit/party.upserted.v1 envelope around the contract's example, with ``changes`` to its data."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.json").read_text()), **changes}
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/intake",
            "type": event_type,
            "subject": data.get("unit_id", "s"),
            "time": "2026-11-23T08:30:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{event_type}",
            "site": data["site"],
            "correlationid": data.get("unit_id", "s"),
            "data": data,
        }
    )


async def apply_intake(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, INTAKE, subscriptions.handlers, event)


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


# --- billing periods ---------------------------------------------------------------------------------

# deploy/demo.yaml: harbour charges 2.80 per m² and month, due on the 15th; B-0302 is unsold (nobody pays).
HARBOUR_FEES = {"harbour-A-0101": 25060, "harbour-A-0102": 33600, "harbour-A-1201": 39844, "harbour-B-0301": 26600}


@pytest.fixture
async def seeded(billing):
    runtime, client = billing
    await seed(runtime)
    await seed(runtime)  # idempotent
    return runtime, client


@pytest.fixture
def issue_day(monkeypatch: pytest.MonkeyPatch):
    """Pin billing's clock (issuing, and the overdue check) to a day, 09:00 UTC: due dates depend on it."""

    def pin(day: date) -> None:
        at = datetime.combine(day, time(9), tzinfo=UTC)
        for module in (period_service, account_service):
            monkeypatch.setattr(module, "utcnow", lambda: at)

    return pin


def events_of(events: list[tuple[str, Envelope]], event_type: str) -> list[Envelope]:
    return [envelope for _, envelope in events if envelope.type == event_type]


async def test_issuing_a_period_charges_area_times_rate_once_per_unit(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 9, 28))  # ahead of the period: the due day stands (it is later than 28 Sep + 15 days)
    clerk = auth(runtime)
    response = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert response.status_code == 201, response.text
    issued = response.json()
    assert (issued["created"], issued["charged_now"], issued["units_charged"]) == (True, 4, 4)
    assert (issued["total_cents"], issued["fee_rate_per_m2"], issued["due_date"]) == (125104, "2.8", "2026-10-15")
    assert issued["skipped"] == [{"unit_id": "harbour-B-0302", "reason": "no paying party"}]
    fees = (await client.get("/charges", params={"site": "harbour", "period": "2026-10"}, headers=clerk)).json()
    assert {c["unit_id"]: c["amount_cents"] for c in fees["items"]} == HARBOUR_FEES
    assert {c["kind"] for c in fees["items"]} == {"management_fee"}

    events = await outbox_events(runtime)
    recorded = events_of(events, "billing.charge.recorded.v1")
    assert {e.data["unit_id"]: (e.data["amount_cents"], e.data["period"], e.data["due_date"]) for e in recorded} == {
        unit: (cents, "2026-10", "2026-10-15") for unit, cents in HARBOUR_FEES.items()
    }
    statuses = events_of(events, "billing.account.status_changed.v1")
    assert {e.data["unit_id"]: e.data["balance_cents"] for e in statuses} == HARBOUR_FEES
    assert {e.data["reason"] for e in statuses} == {"period_issued"}

    # Issued again: nothing twice.
    again = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["charged_now"], again.json()["id"]) == (False, 0, issued["id"])
    assert len(await outbox_events(runtime)) == len(events)

    # The unsold unit is sold: issuing again charges it alone, at the period's rate.
    sold = intake_event(
        runtime,
        "intake.party.upserted.v1",
        "p-new",
        party_id="harbour-B-0302-owner",
        unit_id="harbour-B-0302",
        name="New Owner",
        phone="13800000009",
        extra_care=[],
    )
    assert await apply_intake(runtime, sold) == "handled"
    once_more = (
        await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    ).json()
    assert (once_more["charged_now"], once_more["units_charged"], once_more["total_cents"]) == (1, 5, 125104 + 26600)
    periods = (await client.get("/billing-periods", params={"site": "harbour"}, headers=clerk)).json()
    assert [(p["period"], p["units_charged"]) for p in periods] == [("2026-10", 5)]

    bad_month = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-13"}, headers=clerk)
    assert bad_month.status_code == 422 and bad_month.json()["field"] == "period"
    far_ahead = await client.post("/billing-periods", json={"site": "harbour", "period": "2099-01"}, headers=clerk)
    assert far_ahead.status_code == 422 and far_ahead.json()["field"] == "period"
    no_rate = await client.post(
        "/billing-periods", json={"site": "elsewhere", "period": "2026-10"}, headers=auth(runtime, sites=("elsewhere",))
    )
    assert no_rate.status_code == 409 and no_rate.json()["field"] == "site"
    other_site = await client.post("/billing-periods", json={"site": "riverside", "period": "2026-10"}, headers=clerk)
    assert other_site.status_code == 403 and other_site.headers["content-type"] == PROBLEM_JSON
    agent = await client.post(
        "/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=auth(runtime, roles=("agent",))
    )
    assert agent.status_code == 403


async def test_site_billing_settings_are_set_by_managers(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 2, 1))
    url = "/sites/harbour/billing-settings"
    assert (await client.get(url, headers=auth(runtime))).json()["fee_rate_per_m2"] == "2.8"
    update = {"fee_rate_per_m2": "3.05", "fee_due_day": 31, "target_current_pct": 85}
    assert (await client.put(url, json=update, headers=auth(runtime))).status_code == 403
    manager = auth(runtime, roles=("manager",))
    saved = await client.put(url, json=update, headers=manager)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["fee_rate_per_m2"], saved.json()["target_current_pct"]) == ("3.05", 85)
    assert saved.json()["fee_grace_days"] == 15  # the default
    invalid = await client.put(url, json={**update, "fee_rate_per_m2": "-1"}, headers=manager)
    assert invalid.status_code == 422 and invalid.json()["field"] == "fee_rate_per_m2"
    other = await client.put("/sites/riverside/billing-settings", json=update, headers=manager)
    assert other.status_code == 403
    assert (await client.get("/sites/riverside/billing-settings", headers=auth(runtime))).status_code == 403
    assert (await client.get(url, headers=auth(runtime, roles=("worker",)))).status_code == 403
    periods_elsewhere = await client.get("/billing-periods", params={"site": "riverside"}, headers=auth(runtime))
    assert periods_elsewhere.status_code == 403
    # February has no 31st: the fee falls due on its last day; 89.50 x 3.05 = 272.975 -> 272.98.
    issued = (
        await client.post("/billing-periods", json={"site": "harbour", "period": "2026-02"}, headers=auth(runtime))
    ).json()
    assert issued["due_date"] == "2026-02-28"
    fees = (await client.get("/charges", params={"unit_id": UNIT, "period": "2026-02"}, headers=auth(runtime))).json()
    assert [c["amount_cents"] for c in fees["items"]] == [27298]


async def test_a_period_issued_after_its_due_day_is_due_a_grace_period_after_the_issue(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk, manager = auth(runtime), auth(runtime, roles=("manager",))
    url = "/sites/harbour/billing-settings"
    assert (await client.get(url, headers=clerk)).json()["fee_grace_days"] == 15  # seeded from the demo
    # Issued on 23 Nov for November, due day 15: due 15 days after the issue, not on the 15th already past.
    issue_day(date(2026, 11, 23))
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-11"}, headers=clerk)
    assert issued.status_code == 201, issued.text
    due = date(2026, 12, 8)
    assert issued.json()["due_date"] == due.isoformat()
    fees = (await client.get("/charges", params={"site": "harbour", "period": "2026-11"}, headers=clerk)).json()
    assert {c["due_date"] for c in fees["items"]} == {due.isoformat()}
    statuses = events_of(await outbox_events(runtime), "billing.account.status_changed.v1")
    assert {(e.data["overdue_cents"], e.data["in_arrears"]) for e in statuses} == {(0, False)}
    for as_of, overdue in (("2026-11-23", 0), ("2026-12-08", 0), ("2026-12-09", HARBOUR_FEES[UNIT])):
        account = (
            await client.get(f"/accounts/{UNIT}", params={"site": "harbour", "as_of": as_of}, headers=clerk)
        ).json()
        assert (account["overdue_cents"], account["in_arrears"]) == (overdue, overdue > 0), as_of

    # The overdue timer fires the day after the due date, not before.
    assert await fire_due(runtime, timers, now=datetime(2026, 12, 8, 23, 59, tzinfo=UTC)) == 0
    assert await fire_due(runtime, timers, now=datetime(2026, 12, 9, 0, 1, tzinfo=UTC)) == len(HARBOUR_FEES)
    fell_due = [
        e
        for e in events_of(await outbox_events(runtime), "billing.account.status_changed.v1")
        if e.data["reason"] == "overdue"
    ]
    assert {
        e.data["unit_id"]: (e.data["overdue_cents"], e.data["in_arrears"], e.data["oldest_due"]) for e in fell_due
    } == {unit: (cents, True, due.isoformat()) for unit, cents in HARBOUR_FEES.items()}

    # The grace is a site setting: a manager shortens it, and the next late period uses it.
    saved = await client.put(url, json={"fee_rate_per_m2": "2.80", "fee_grace_days": 5}, headers=manager)
    assert saved.status_code == 200 and saved.json()["fee_grace_days"] == 5
    assert (await client.put(url, json={"fee_rate_per_m2": "2.80", "fee_grace_days": -1}, headers=manager)).json()[
        "field"
    ] == "fee_grace_days"
    issue_day(date(2026, 12, 20))
    december = (
        await client.post("/billing-periods", json={"site": "harbour", "period": "2026-12"}, headers=clerk)
    ).json()
    assert december["due_date"] == "2026-12-25"


# --- payments ----------------------------------------------------------------------------------------


def payment(reference: str, amount_cents: int = 10000, unit_id: str = UNIT, **extra: Any) -> dict[str, Any]:
    return {
        "site": "harbour",
        "unit_id": unit_id,
        "amount_cents": amount_cents,
        "method": "transfer",
        "reference": reference,
        **extra,
    }


async def test_payments_are_idempotent_by_reference_with_gapless_receipts(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)
    before = len(await outbox_events(runtime))

    first = await client.post("/payments", json=payment("BANK-0001", 20000), headers=clerk)
    assert first.status_code == 201, first.text
    assert (first.json()["receipt_no"], first.json()["recorded_by"]) == ("HARBOUR-000001", "clerk.1")
    repeat = await client.post("/payments", json=payment("BANK-0001", 20000), headers=clerk)
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]
    reused = await client.post("/payments", json=payment("BANK-0001", 999), headers=clerk)
    assert reused.status_code == 409 and reused.json()["field"] == "reference"

    # Rejected payments take no receipt number.
    for body, field in [
        (payment("X-1", unit_id="harbour-Z-9999"), "unit_id"),
        (payment("X-2", currency="USD"), "currency"),
        (payment("X-3", 0), "amount_cents"),
        (payment("X-4", method="cheque"), "method"),
        (payment("X-5", received_at="2099-01-01T00:00:00Z"), "received_at"),
    ]:
        rejected = await client.post("/payments", json=body, headers=clerk)
        assert rejected.status_code in (404, 422) and rejected.json()["field"] == field, rejected.text
    second = await client.post("/payments", json=payment("CASH-7", 5060, method="cash"), headers=clerk)
    assert second.json()["receipt_no"] == "HARBOUR-000002"

    statuses = events_of((await outbox_events(runtime))[before:], "billing.account.status_changed.v1")
    assert [(e.data["balance_cents"], e.data["reason"]) for e in statuses] == [(5060, "payment"), (0, "payment")]

    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert (account["balance_cents"], account["paid_cents"], account["charged_cents"]) == (0, 25060, 25060)
    assert [p["receipt_no"] for p in account["payments"]] == ["HARBOUR-000001", "HARBOUR-000002"]

    # A wrong payment is voided with a reason, never edited; its receipt number stays taken.
    voided = await client.post(f"/payments/{second.json()['id']}/void", json={"reason": "Counted twice"}, headers=clerk)
    assert voided.status_code == 200 and voided.json()["void_reason"] == "Counted twice"
    twice = await client.post(f"/payments/{second.json()['id']}/void", json={"reason": "again"}, headers=clerk)
    assert twice.status_code == 409
    no_reason = await client.post(f"/payments/{first.json()['id']}/void", json={}, headers=clerk)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    account = (await client.get(f"/accounts/{UNIT}", params={"site": "harbour"}, headers=clerk)).json()
    assert account["balance_cents"] == 5060 and [p["voided"] for p in account["payments"]] == [False, True]
    listing = (await client.get("/payments", params={"site": "harbour"}, headers=clerk)).json()
    assert [p["receipt_no"] for p in listing["items"]] == ["HARBOUR-000002", "HARBOUR-000001"]
    month = utcnow().strftime("%Y-%m")
    summary = (
        await client.get(
            "/payments/summary",
            params={"site": "harbour", "month": month},
            headers=auth(runtime, roles=("supervisor",)),
        )
    ).json()
    assert (summary["payments"], summary["amount_cents"], summary["voided"], summary["voided_cents"]) == (
        1,
        20000,
        1,
        5060,
    )
    assert summary["by_method"] == [{"method": "transfer", "payments": 1, "amount_cents": 20000}]
    assert (summary["first_receipt"], summary["last_receipt"]) == ("HARBOUR-000001", "HARBOUR-000002")
    assert (await client.get("/payments/summary", params={"site": "harbour", "month": "2026-1"}, headers=clerk)).json()[
        "field"
    ] == "query.month"

    assert (
        await client.post("/payments", json=payment("A-1"), headers=auth(runtime, roles=("agent",)))
    ).status_code == 403
    assert (
        await client.post("/payments", json=payment("A-2"), headers=auth(runtime, sites=("riverside",)))
    ).status_code == 403
    riverside_clerk = auth(runtime, sites=("riverside",))
    assert (await client.get(f"/payments/{first.json()['id']}", headers=riverside_clerk)).status_code == 403
    assert (
        await client.post(f"/payments/{first.json()['id']}/void", json={"reason": "not mine"}, headers=riverside_clerk)
    ).status_code == 403
    assert (await client.get("/payments", params={"site": "riverside"}, headers=clerk)).status_code == 403


async def test_concurrent_payments_get_consecutive_receipts_and_one_status_each(seeded) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    units = list(HARBOUR_FEES)
    bodies = [payment(f"C-{n}", 1000 + n, unit_id=units[n % 2]) for n in range(8)]
    responses = await asyncio.gather(*(client.post("/payments", json=b, headers=clerk) for b in bodies))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert sorted(r.json()["receipt_no"] for r in responses) == [f"HARBOUR-{n:06d}" for n in range(1, 9)]
    # Each unit's last status published counts every payment of it.
    last: dict[str, int] = {}
    for event in events_of(await outbox_events(runtime), "billing.account.status_changed.v1"):
        last[event.data["unit_id"]] = event.data["balance_cents"]
    assert last == {unit: -sum(b["amount_cents"] for b in bodies if b["unit_id"] == unit) for unit in units[:2]}


# --- arrears and collection --------------------------------------------------------------------------


async def add_fee(runtime: Runtime, unit_id: str, period: str, amount_cents: int) -> None:
    """A fee charge recorded on 1 August 2026 (the tests look at fixed dates, not today)."""
    year, month = map(int, period.split("-"))
    async with runtime.sessionmaker() as session:
        session.add(
            Charge(
                id=f"fee-{unit_id}-{period}",
                site=unit_id.split("-")[0],
                unit_id=unit_id,
                kind="management_fee",
                item=f"Fee {period}",
                amount_cents=amount_cents,
                currency="CNY",
                period=period,
                due_date=date(year, month, 15),
                request_id=None,
                work_order_id=None,
                source_event_id=None,
                recorded_at=datetime(2026, 8, 1, tzinfo=UTC),
            )
        )
        await session.commit()


async def test_arrears_are_aged_and_collection_is_measured_against_the_targets(seeded) -> None:
    runtime, client = seeded
    for period in ("2026-08", "2026-09", "2026-10", "2026-11"):
        await add_fee(runtime, "harbour-A-0101", period, 25060)
    await add_fee(runtime, "harbour-A-0102", "2026-08", 33600)
    await add_fee(runtime, "harbour-A-0102", "2026-11", 33600)
    await add_fee(runtime, "harbour-A-1201", "2026-11", 39844)
    await add_fee(runtime, "harbour-B-0301", "2026-11", 26600)
    await add_fee(runtime, "riverside-T1-1501", "2026-11", 387500)
    clerk = auth(runtime)
    # Settles August and 49.40 of September: payments go to the oldest due charges first.
    assert (
        await client.post("/payments", json=payment("T-1", 30000, received_at="2026-11-20T02:00:00Z"), headers=clerk)
    ).status_code == 201
    assert (
        await client.post(
            "/payments",
            json=payment("T-2", 26600, unit_id="harbour-B-0301", received_at="2026-11-10T02:00:00Z"),
            headers=clerk,
        )
    ).status_code == 201
    assert (
        await client.post(
            "/payments",
            json={
                **payment("R-1", 387500, unit_id="riverside-T1-1501"),
                "site": "riverside",
                "received_at": "2026-11-12T02:00:00Z",
            },
            headers=auth(runtime, sites=("riverside",)),
        )
    ).status_code == 201

    as_of = {"site": "harbour", "as_of": "2026-11-23"}
    arrears = (await client.get("/arrears", params=as_of, headers=clerk)).json()
    assert [(i["unit_id"], i["overdue_cents"], i["days_overdue"], i["oldest_due"]) for i in arrears["items"]] == [
        ("harbour-A-0102", 67200, 100, "2026-08-15"),
        ("harbour-A-0101", 70240, 69, "2026-09-15"),
        ("harbour-A-1201", 39844, 8, "2026-11-15"),
    ]
    assert arrears["items"][1]["aging"] == {"1_30": 25060, "31_60": 25060, "61_90": 20120, "over_90": 0}
    assert (arrears["units_in_arrears"], arrears["overdue_cents"]) == (3, 177284)
    assert arrears["aging"] == {"1_30": 98504, "31_60": 25060, "61_90": 20120, "over_90": 33600}
    assert arrears["items"][0]["payer"]["phone"] == "13800000002"
    long_overdue = (await client.get("/arrears", params={**as_of, "min_days": 60}, headers=clerk)).json()
    assert [i["unit_id"] for i in long_overdue["items"]] == ["harbour-A-0102", "harbour-A-0101"]
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    masked = (await client.get("/arrears", params=as_of, headers=head_office)).json()
    assert masked["items"][0]["payer"] == {
        "party_id": "harbour-A-0102-owner",
        "name": "Wang Fang",
        "phone": "138****0002",
        "email": None,
    }
    # Before the payment of the 20th, A-0101 owed everything due by then.
    earlier = (await client.get("/arrears", params={"site": "harbour", "as_of": "2026-11-19"}, headers=clerk)).json()
    assert {i["unit_id"]: i["overdue_cents"] for i in earlier["items"]}["harbour-A-0101"] == 100240

    account = (await client.get("/accounts/harbour-A-0101", params=as_of, headers=clerk)).json()
    assert (account["in_arrears"], account["overdue_cents"], account["balance_cents"]) == (True, 70240, 70240)
    assert [c["outstanding_cents"] for c in account["charges"]] == [0, 20120, 25060, 25060]

    accounts = (await client.get("/accounts", params=as_of, headers=auth(runtime, roles=("agent",)))).json()
    assert accounts["total"] == 5  # the five harbour units, B-0302 with nothing on it
    assert {a["unit_id"]: (a["balance_cents"], a["in_arrears"]) for a in accounts["items"]} == {
        "harbour-A-0101": (70240, True),
        "harbour-A-0102": (67200, True),
        "harbour-A-1201": (39844, True),
        "harbour-B-0301": (0, False),
        "harbour-B-0302": (0, False),
    }
    assert accounts["items"][0]["payer"]["phone"] == "138****0001"
    settled = (await client.get("/accounts", params={**as_of, "in_arrears": "false"}, headers=clerk)).json()
    assert [a["unit_id"] for a in settled["items"]] == ["harbour-B-0301", "harbour-B-0302"]

    collection = (await client.get("/collection", params=as_of, headers=clerk)).json()
    [harbour] = collection["sites"]
    assert [
        (
            p["period"],
            p["billed_cents"],
            p["collected_cents"],
            p["rate_percent"],
            p["target_percent"],
            p["meets_target"],
        )
        for p in harbour["periods"]
    ] == [
        ("2026-11", 125104, 26600, 21.26, 80, False),
        ("2026-10", 25060, 0, 0.0, 90, False),
        ("2026-09", 25060, 4940, 19.71, 100, False),
    ]
    august = (await client.get("/collection", params={**as_of, "period": "2026-08"}, headers=clerk)).json()
    assert august["sites"][0]["periods"][0] | {} == {
        "period": "2026-08",
        "months_ago": 3,
        "billed_cents": 58660,
        "collected_cents": 25060,
        "outstanding_cents": 33600,
        "rate_percent": 42.72,
        "target_percent": 100,
        "meets_target": False,
    }
    every_site = (await client.get("/collection", params={"as_of": "2026-11-23"}, headers=head_office)).json()
    by_site = {s["site"]: s["periods"][0] for s in every_site["sites"]}
    assert set(by_site) == {"harbour", "lakeside", "riverside"}
    assert (by_site["riverside"]["rate_percent"], by_site["riverside"]["meets_target"]) == (100.0, True)
    assert (by_site["lakeside"]["billed_cents"], by_site["lakeside"]["rate_percent"]) == (0, None)
    mine = (await client.get("/collection", params={"as_of": "2026-11-23"}, headers=clerk)).json()
    assert [s["site"] for s in mine["sites"]] == ["harbour"]

    assert (await client.get("/arrears", params={"site": "riverside"}, headers=clerk)).status_code == 403
    assert (await client.get("/collection", params={"site": "riverside"}, headers=clerk)).status_code == 403
    for roles in (("agent",), ("worker",), ("owner",), ("operator",)):
        assert (await client.get("/arrears", params=as_of, headers=auth(runtime, roles=roles))).status_code == 403
    missing = await client.get("/arrears", headers=clerk)
    assert missing.status_code == 422 and missing.json()["field"] == "query.site"
    bad_date = await client.get("/arrears", params={"site": "harbour", "as_of": "23/11/2026"}, headers=clerk)
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "query.as_of"
    bad_period = await client.get("/collection", params={"period": "2026-1"}, headers=clerk)
    assert bad_period.status_code == 422 and bad_period.json()["field"].startswith("query.period")


# --- status events -----------------------------------------------------------------------------------


async def test_status_is_published_on_each_change_and_when_a_charge_falls_overdue(billing) -> None:
    runtime, client = billing
    await apply(runtime, completed(runtime, "evt-1"))
    await apply(runtime, completed(runtime, "evt-2", work_order_id="wo-0002", charge=None))  # no charge: no change

    def statuses(events: list[tuple[str, Envelope]]) -> list[tuple[Any, ...]]:
        return [
            (e.data["balance_cents"], e.data["overdue_cents"], e.data["in_arrears"], e.data["reason"])
            for e in events_of(events, "billing.account.status_changed.v1")
        ]

    assert statuses(await outbox_events(runtime)) == [(8000, 0, False, "charge")]
    assert (await client.post("/payments", json=payment("P-1", 8000), headers=auth(runtime))).status_code == 201
    await apply(
        runtime,
        completed(
            runtime,
            "evt-3",
            work_order_id="wo-0003",
            charge={"item": "Lock cylinder", "amount_cents": 1550, "currency": "CNY"},
        ),
    )
    assert statuses(await outbox_events(runtime)) == [
        (8000, 0, False, "charge"),
        (0, 0, False, "payment"),
        (1550, 0, False, "charge"),
    ]

    # Fifteen days to pay a repair (demo default); the day after the due date the unit is in arrears.
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=5)) == 0
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=17)) == 1
    [*_, (subject, overdue)] = await outbox_events(runtime)
    assert subject == "billing.account.status_changed.v1.harbour"
    assert (overdue.data["overdue_cents"], overdue.data["in_arrears"]) == (1550, True)
    assert overdue.data["reason"] == "overdue"
    assert overdue.data["oldest_due"] == (utcnow() + timedelta(days=15)).date().isoformat()
    assert await fire_due(runtime, timers, now=utcnow() + timedelta(days=40)) == 0
