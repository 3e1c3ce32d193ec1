"""Every route of every service, walked with an intruder's token: a clerk of another site, a worker of another
department and another owner. Each route is taken from the app's own route table, so a new route is walked
(or must be listed below with the reason) without editing this test.

Each service runs in-process on the demo seed with real objects of the *foreign* site (riverside) created
first, so a 403/404 proves the scoping and not an absence. The intruders:

- ``other-site``: every staff role, but for harbour only. Any route naming a riverside object or the riverside
  site answers 403/404; a listing of harbour answers without riverside data.
- ``other-department``: a greening worker of riverside; riverside's work orders are engineering's.
- ``other-owner``: the owner of riverside-T1-2002; the riverside objects belong to riverside-T1-1501's owner.
- ``other-site-owner``: an owner of harbour.

"No foreign data": the response never contains the foreign owner's name, phone or e-mail, nor the text written
into the foreign objects.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from sqlalchemy import insert

from pm_platform import migrations
from pm_platform.auth import ROLES, mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

HOME, FOREIGN = "harbour", "riverside"
FOREIGN_UNIT, FOREIGN_PARTY = "riverside-T1-1501", "riverside-T1-1501-owner"
OTHER_UNIT, OTHER_PARTY = "riverside-T1-2002", "riverside-T1-2002-owner"
SECRET = "Secret-of-riverside-7781"  # written into every foreign object the walk creates
OWNER_MARKERS = ("Zhao Lei", "13900000011")  # the foreign owner (deploy/demo.yaml)
MONTH = date.today().strftime("%Y-%m")


def site_today() -> date:
    """Today at the demo sites (Shanghai), a day ahead of UTC's from 16:00 UTC."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


STAFF_ROLES = [role for role in ROLES if role != "owner"]
WRITE = {"POST", "PUT", "PATCH", "DELETE"}
# Path parameters that name a thing of the foreign site (not a site-wide setting key such as a category).
OBJECT_PARAMS = {
    "request_id",
    "incident_id",
    "handover_id",
    "unit_id",
    "party_id",
    "work_order_id",
    "payment_id",
    "survey_id",
    "invitation_id",
    "followup_id",
    "visit_id",
    "message_id",
    "broadcast_id",
    "staff_id",
    "dead_letter_id",
    "permit_id",
    "pass_number",
    "file_name",
    "move_in_id",
    "move_out_id",
    "transfer_id",
    "number",
    "visitor_id",
    "key_id",
    "parcel_id",
    "task_id",
    "bill_id",
    "order_id",
    "charge_id",
    "waiver_id",
    "step_id",
    "meter_id",
    "reading_id",
    "receipt_id",
    "space_id",
    "session_id",
    "contract_id",
    "income_id",
    "plan_id",
}


@dataclass(frozen=True)
class Intruder:
    name: str
    roles: tuple[str, ...]
    sites: tuple[str, ...]
    department: str | None = None
    party_id: str | None = None

    @property
    def home(self) -> str:
        return self.sites[0]


INTRUDERS = (
    Intruder("other-site", tuple(STAFF_ROLES), (HOME,), department="engineering"),
    Intruder("other-department", ("worker",), (FOREIGN,), department="greening"),
    Intruder("other-owner", ("owner",), (FOREIGN,), party_id=OTHER_PARTY),
    Intruder("other-site-owner", ("owner",), (HOME,), party_id="harbour-A-0101-owner"),
)


@dataclass
class Walk:
    """What a service's setup leaves for the walk: the foreign objects' ids by path parameter name, and the
    values and bodies that make a route reach its scoping check."""

    values: dict[str, str] = field(default_factory=dict)
    # Query parameters sent whenever a route has them (besides ``site``): foreign filters and required ones.
    query: dict[str, str] = field(default_factory=dict)
    bodies: dict[tuple[str, str], Any] = field(default_factory=dict)
    # Path parameters that are keys within the site of the ``site`` query (a department code, a category),
    # not objects of the foreign site.
    site_keys: set[str] = field(default_factory=set)


Setup = Callable[[Runtime, httpx.AsyncClient], Awaitable[Walk]]


def bearer(
    runtime: Runtime,
    roles: list[str],
    sites: list[str],
    department: str | None = None,
    party_id: str | None = None,
    subject: str = "someone",
) -> dict[str, str]:
    token = mint_token(runtime.settings, subject, roles, sites, department=department, party_id=party_id)
    return {"Authorization": f"Bearer {token}"}


def foreign_staff(runtime: Runtime) -> dict[str, str]:
    return bearer(runtime, STAFF_ROLES, [FOREIGN], subject="staff.riverside")


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    body: dict[str, Any] = response.json()
    return body


def envelope(runtime: Runtime, event_type: str, changes: dict[str, Any], event_id: str, **attributes: Any) -> Envelope:
    """The contract's example of ``event_type`` with ``changes`` to its data, on the foreign site."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.json").read_text()), **changes}
    document = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"pm/{event_type.split('.')[0]}",
        "type": event_type,
        "subject": event_id,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{event_type}",
        "site": FOREIGN,
        "data": data,
        **attributes,
    }
    return runtime.catalog.parse(document)


async def deliver(runtime: Runtime, event: Envelope) -> None:
    assert await apply_event(runtime, "route-scope", runtime.subscriptions.handlers, event) == "handled"


# --- the services: how each is built, and the foreign objects each gets -----------------------------------


async def intake_setup(runtime: Runtime, client: httpx.AsyncClient) -> Walk:
    staff = foreign_staff(runtime)
    request = {
        "site": FOREIGN,
        "kind": "repair",
        "category": "water",
        "description": f"Tap leaking {SECRET}",
        "unit_id": FOREIGN_UNIT,
        "in_unit": True,
        "reporter": {"party_id": FOREIGN_PARTY, "name": "Zhao Lei", "phone": "13900000011"},
    }
    first = await created(await client.post("/requests", json=request, headers=staff))
    for _ in range(2):  # three on one building and category form an incident
        await created(await client.post("/requests", json=request, headers=staff))
    incidents = (await client.get("/incidents", params={"site": FOREIGN}, headers=staff)).json()
    incident = (incidents["items"] if isinstance(incidents, dict) else incidents)[0]
    await created(await client.post("/duty-log", headers=staff, json={"site": FOREIGN, "note": SECRET}))
    handover = await created(
        await client.post("/handovers", headers=staff, json={"site": FOREIGN, "to_agent": "agent.2", "notes": SECRET})
    )
    photo = await created(
        await client.post(
            "/photos",
            data={"site": FOREIGN},
            files={"file": ("p.png", b"\x89PNG\r\n\x1a\n", "image/png")},
            headers=staff,
        )
    )
    permit = await created(
        await client.post(
            "/decoration-permits",
            headers=staff,
            json={
                "unit_id": FOREIGN_UNIT,
                "party_id": FOREIGN_PARTY,
                "scope": [f"Partition wall {SECRET}"],
                "description": f"Office fit-out {SECRET}",
                "contractor": {
                    "company": f"Builder {SECRET}",
                    "licence_number": "L-1",
                    "manager_name": "Qian",
                    "manager_phone": "13912345678",
                },
                "workers": [{"name": f"Worker {SECRET}", "id_last4": "1234", "trade": "carpenter"}],
                "works_from": site_today().isoformat(),  # no earlier than the site's own today
                "works_to": (site_today() + timedelta(days=10)).isoformat(),
            },
        )
    )
    plan = await created(
        await client.post(
            f"/decoration-permits/{permit['id']}/files",
            data={"purpose": "plan"},
            files={"file": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")},
            headers=staff,
        )
    )
    settings = (await client.get(f"/sites/{FOREIGN}/decoration-settings", headers=staff)).json()
    checklist = [{"code": item["code"], "ok": True} for item in settings["checklist"]]
    review = {"result": "approve", "checklist": checklist}
    await created(await client.post(f"/decoration-permits/{permit['id']}/review", json=review, headers=staff))
    permit = (await client.get(f"/decoration-permits/{permit['id']}", headers=staff)).json()
    today = date.today().isoformat()
    move_in = await created(
        await client.post(
            f"/units/{FOREIGN_UNIT}/move-ins", headers=staff, json={"party_id": FOREIGN_PARTY, "day": today}
        )
    )
    move_out = await created(
        await client.post(
            f"/units/{FOREIGN_UNIT}/move-outs", headers=staff, json={"party_id": FOREIGN_PARTY, "day": today}
        )
    )
    transfer = await created(
        await client.post(
            f"/units/{FOREIGN_UNIT}/transfers",
            headers=staff,
            json={"old_party_id": FOREIGN_PARTY, "transfer_date": today, "new_owner": {"name": SECRET}},
        )
    )
    registers = await _registers(client, staff)
    walk = Walk(
        values={
            **registers,
            "permit_id": permit["id"],
            "pass_number": permit["passes"][0]["number"],
            "file_name": plan["file_name"],
            "request_id": first["id"],
            "incident_id": incident["id"],
            "handover_id": handover["id"],
            "move_in_id": move_in["id"],
            "move_out_id": move_out["id"],
            "transfer_id": transfer["id"],
            "code": "id_card",
            "unit_id": FOREIGN_UNIT,
            "party_id": FOREIGN_PARTY,
            "site": FOREIGN,
            "kind": "units",
            "name": photo["ref"].split("/", 1)[1],  # a photo stored for the foreign site
        },
        query={"unit_id": FOREIGN_UNIT, "phone": "13900000011", "month": MONTH, "day": date.today().isoformat()},
    )
    walk.bodies = {
        ("POST", "/requests"): request,
        ("POST", "/requests/{request_id}/status"): {"status": "acknowledged"},
        ("POST", "/requests/{request_id}/replies"): {"message": "On the way"},
        ("POST", "/requests/{request_id}/classification"): {"complaint_class": "valid"},
        ("POST", "/requests/{request_id}/duplicate-of"): {"duplicate_of": first["id"]},
        ("POST", "/incidents/{incident_id}/broadcast"): {"message": "Water is off"},
        ("POST", "/duty-log"): {"site": FOREIGN, "note": "x"},
        ("POST", "/handovers"): {"site": FOREIGN, "to_agent": "agent.2"},
        ("POST", "/units/{unit_id}/parties"): {"role": "tenant", "name": "Someone", "phone": "13900000099"},
        ("PUT", "/parties/{party_id}"): {"role": "owner", "name": "Zhao Lei", "phone": "13900000011"},
        ("POST", "/parties/{party_id}/move-out"): {"move_out": date.today().isoformat()},
        ("POST", "/sites/{site}/import/{kind}"): "code,building,floor,area_m2,use,occupied\n",
        ("POST", "/units/{unit_id}/move-ins"): {"party_id": FOREIGN_PARTY, "day": today},
        ("POST", "/units/{unit_id}/move-outs"): {"party_id": FOREIGN_PARTY, "day": today},
        ("POST", "/units/{unit_id}/transfers"): {
            "old_party_id": FOREIGN_PARTY,
            "transfer_date": today,
            "new_owner": {"name": "Someone"},
        },
        ("POST", "/move-outs/{move_out_id}/return-keys"): {"keys": [{"number": "K1"}]},
        **REGISTER_BODIES,
    }
    return walk


SIGNED = {"name": "Zhao Lei"}
REGISTER_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/release-passes"): {"unit_id": FOREIGN_UNIT, "items": [{"description": "desk"}]},
    ("POST", "/release-passes/{number}/authorise"): {"method": "owner_present"},
    ("POST", "/release-passes/{number}/revoke"): {"reason": "x"},
    ("POST", "/visitors"): {
        "unit_id": FOREIGN_UNIT,
        "name": "V",
        "purpose": "visit",
        "valid_to": "2099-01-01T00:00:00Z",
    },
    ("POST", "/visitors/{visitor_id}/cancel"): {"reason": "x"},
    ("POST", "/keys"): {"unit_id": FOREIGN_UNIT, "tag": "K-9", "opens": "door"},
    ("POST", "/keys/{key_id}/issue"): {"to": "x", "purpose": "y", "signature": SIGNED},
    ("POST", "/keys/{key_id}/return"): {"by": "x", "signature": SIGNED},
    ("POST", "/keys/{key_id}/hand-back"): {"by": "x", "signature": SIGNED},
    ("POST", "/parcels"): {"unit_id": FOREIGN_UNIT, "carrier": "SF"},
    ("POST", "/parcels/{parcel_id}/collect"): {"collected_by": "x", "signature": SIGNED},
    ("POST", "/parcels/{parcel_id}/return"): {"reason": "x"},
    ("POST", "/documents"): {"unit_id": FOREIGN_UNIT, "kind": "contract", "title": "Lease"},
    ("POST", "/documents/{task_id}/collect"): {"collected_by": "x", "signature": SIGNED},
    ("POST", "/documents/{task_id}/cancel"): {"reason": "x"},
}


async def _registers(client: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, str]:
    """One entry of each front-desk register at the foreign site, each carrying the secret."""
    release = await created(
        await client.post(
            "/release-passes",
            headers=staff,
            json={"unit_id": FOREIGN_UNIT, "items": [{"description": f"safe {SECRET}"}], "carrier": SECRET},
        )
    )
    visitor = await created(
        await client.post(
            "/visitors",
            headers=staff,
            json={"unit_id": FOREIGN_UNIT, "name": "Visitor", "purpose": SECRET, "valid_to": "2099-01-01T00:00:00Z"},
        )
    )
    key = await created(
        await client.post("/keys", headers=staff, json={"unit_id": FOREIGN_UNIT, "tag": "K-1", "opens": SECRET})
    )
    parcel = await created(
        await client.post("/parcels", headers=staff, json={"unit_id": FOREIGN_UNIT, "carrier": SECRET})
    )
    document = await created(
        await client.post(
            "/documents", headers=staff, json={"unit_id": FOREIGN_UNIT, "kind": "contract", "title": SECRET}
        )
    )
    return {
        "number": release["number"],
        "visitor_id": visitor["id"],
        "key_id": key["id"],
        "parcel_id": parcel["id"],
        "task_id": document["id"],
    }


async def billing_setup(runtime: Runtime, client: httpx.AsyncClient) -> Walk:
    await deliver(
        runtime,
        envelope(
            runtime,
            "dispatch.workorder.completed.v1",
            {
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "work_order_id": "wo-foreign",
                "result": SECRET,
                "charge": {"item": SECRET, "amount_cents": 778100, "currency": "CNY"},
            },
            "evt-foreign-completed",
            department="engineering",
            correlationid="req-foreign",
        ),
    )
    await deliver(
        runtime,
        envelope(
            runtime,
            "intake.occupancy.settlement_requested.v1",
            # A transfer: a move-out would charge the month to its day first, and the walk's run bills that month.
            {
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "party_id": FOREIGN_PARTY,
                "settlement_id": "mo-foreign",
                "procedure": "transfer",
            },
            "evt-foreign-settlement",
            correlationid="mo-foreign",
        ),
    )
    payment = await created(
        await client.post(
            "/payments",
            headers=foreign_staff(runtime),
            json={
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "amount_cents": 778100,
                "currency": "CNY",
                "method": "cash",
                "reference": SECRET,
            },
        )
    )
    await deliver(
        runtime,
        envelope(
            runtime,
            "intake.decoration.approved.v1",
            {"site": FOREIGN, "unit_id": FOREIGN_UNIT, "permit_id": "dp-foreign", "contractor_name": SECRET},
            "evt-foreign-approved",
            correlationid="dp-foreign",
        ),
    )
    deposits = await created(await client.get("/deposits", params={"site": FOREIGN}, headers=foreign_staff(runtime)))
    [deposit] = deposits["items"]
    refund = await created(
        await client.post(
            f"/payments/{payment['id']}/refunds",
            headers=foreign_staff(runtime),
            json={"amount_cents": 100, "reason": SECRET},
        )
    )
    staff = foreign_staff(runtime)
    meter = await created(
        await client.post(
            f"/sites/{FOREIGN}/meters", headers=staff, json={"kind": "water", "serial": SECRET, "unit_id": FOREIGN_UNIT}
        )
    )
    reading = await created(
        await client.post(f"/meters/{meter['id']}/readings", headers=staff, json={"period": MONTH, "value": "12.5"})
    )
    await created(await client.post("/billing-periods", headers=staff, json={"site": FOREIGN, "period": MONTH}))
    bills = await created(await client.get("/bills", params={"site": FOREIGN, "unit_id": FOREIGN_UNIT}, headers=staff))
    order = await created(
        await client.post("/payment-orders", headers=staff, json={"site": FOREIGN, "unit_id": FOREIGN_UNIT})
    )
    charges = await created(
        await client.get("/charges", params={"site": FOREIGN, "unit_id": FOREIGN_UNIT}, headers=staff)
    )
    repair = next(c for c in charges["items"] if c["kind"] == "repair")
    waiver_id, step_id = await foreign_waiver_and_dunning_step(runtime, repair["id"])
    cash_receipt, handover = await foreign_cash_handover(runtime, client)
    registers = await foreign_registers(client, staff)
    walk = Walk(
        values={
            "unit_id": FOREIGN_UNIT,
            "payment_id": payment["id"],
            "refund_id": refund["id"],
            "deposit_id": deposit["id"],
            "bill_id": bills["items"][0]["id"],
            "order_id": order["id"],
            "charge_id": repair["id"],
            "waiver_id": waiver_id,
            "step_id": step_id,
            "plan_id": "plan-foreign",
            "meter_id": meter["id"],
            "reading_id": reading["reading_id"],
            "receipt_id": cash_receipt,
            **registers,
            "handover_id": handover,
            "building": FOREIGN_UNIT.split("-")[1],
            "code": "management_fee",
            "site": FOREIGN,
            "period": MONTH,
        },
        query={"unit_id": FOREIGN_UNIT, "month": MONTH},
        site_keys={"code", "building"},
    )
    walk.bodies = {
        ("POST", "/payments"): {
            "site": FOREIGN,
            "unit_id": FOREIGN_UNIT,
            "amount_cents": 100,
            "currency": "CNY",
            "method": "cash",
            "reference": "r-1",
        },
        ("POST", "/payments/{payment_id}/void"): {"reason": "typo"},
        ("POST", "/payments/{payment_id}/refunds"): {"amount_cents": 100, "reason": "typo"},
        ("POST", "/refunds/{refund_id}/approve"): {},
        ("POST", "/refunds/{refund_id}/reject"): {"note": "typo"},
        ("POST", "/deposits/{deposit_id}/receive"): {"method": "cash"},
        ("POST", "/units/{unit_id}/deposits"): {"purpose": "tenancy", "amount_cents": 100, "method": "cash"},
        ("POST", "/payment-gateway/callback"): {
            "order_id": order["id"],
            "txn_id": "t-1",
            "status": "paid",
            "amount_cents": order["amount_cents"],
            "currency": "CNY",
        },
        ("POST", "/sites/{site}/month-closes"): {"month": "2020-01"},
        ("POST", "/installment-plans"): {
            "site": FOREIGN,
            "unit_id": FOREIGN_UNIT,
            "installments": [{"due": "2099-01-01", "amount_cents": 100}, {"due": "2099-02-01", "amount_cents": 100}],
        },
        ("POST", "/sites/{site}/fee-items/{code}/rates"): {"effective_from": "2099-01", "rate": "1"},
        ("POST", "/charges/{charge_id}/cash-receipts"): {"client_key": "intruder-key-1", "amount_cents": 100},
        ("POST", "/rental-contracts/{contract_id}/rent-receipts"): {"period": MONTH, "method": "cash"},
        ("POST", "/income-receipts/{income_id}/void"): {"reason": "typo"},
        ("POST", "/installment-plans/{plan_id}/cancel"): {"reason": "typo"},
        ("POST", "/service-charges"): {"site": FOREIGN, "unit_id": FOREIGN_UNIT, "code": "drain_unblocking"},
        ("POST", "/cash-handovers"): {
            "site": FOREIGN,
            "worker": "eng-01",
            "day": site_today().isoformat(),
            "counted_cents": 100,
        },
    }
    return walk


async def foreign_registers(client: httpx.AsyncClient, staff: dict[str, str]) -> dict[str, str]:
    """A parking space, a car at the gate, an outside renter's contract with its rent taken, and a listed service
    at the foreign site, each carrying the secret where it has text."""
    space = await created(
        await client.post(
            f"/sites/{FOREIGN}/parking-spaces",
            headers=staff,
            json={
                "code": "B1-001",
                "zone": "B1",
                "kind": "rented",
                "unit_id": FOREIGN_UNIT,
                "monthly_fee_cents": 30000,
                "note": SECRET,
            },
        )
    )
    tariff = {"free_minutes": 15, "hourly_cents": 500, "daily_cap_cents": 3000}
    await created(await client.put(f"/sites/{FOREIGN}/parking-tariff", headers=staff, json=tariff))
    car = await created(await client.post(f"/sites/{FOREIGN}/parking-sessions", headers=staff, json={"plate": "浙B1"}))
    contract = await created(
        await client.post(
            f"/sites/{FOREIGN}/rental-contracts",
            headers=staff,
            json={
                "kind": "advertising",
                "subject": SECRET,
                "renter_name": SECRET,
                "starts_on": f"{MONTH}-01",
                "ends_on": "2099-12-31",
                "rent_cents": 100000,
            },
        )
    )
    rent = await created(
        await client.post(
            f"/rental-contracts/{contract['id']}/rent-receipts", headers=staff, json={"period": MONTH, "method": "cash"}
        )
    )
    service = {"code": "drain_unblocking", "name": SECRET, "price_cents": 5000}
    await created(await client.post(f"/sites/{FOREIGN}/service-items", headers=staff, json=service))
    return {"space_id": space["id"], "session_id": car["id"], "contract_id": contract["id"], "income_id": rent["id"]}


async def foreign_cash_handover(runtime: Runtime, client: httpx.AsyncClient) -> tuple[str, str]:
    """A repair's cash taken on site by the foreign site's engineer, and that day's cash handed to its clerk."""
    await deliver(
        runtime,
        envelope(
            runtime,
            "dispatch.workorder.completed.v1",
            {
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "work_order_id": "wo-foreign-cash",
                "charge": {"item": SECRET, "amount_cents": 5000, "currency": "CNY"},
            },
            "evt-foreign-cash",
            department="engineering",
            correlationid="req-foreign-cash",
        ),
    )
    charges = await created(
        await client.get("/charges", params={"site": FOREIGN, "kind": "repair"}, headers=foreign_staff(runtime))
    )
    charge = next(c for c in charges["items"] if c["work_order_id"] == "wo-foreign-cash")
    engineer = bearer(runtime, ["worker"], [FOREIGN], "engineering", subject="eng-01")
    taken = await created(
        await client.post(
            f"/charges/{charge['id']}/cash-receipts",
            headers=engineer,
            json={"client_key": "foreign-key-1", "amount_cents": 5000, "note": SECRET},
        )
    )
    handover = await created(
        await client.post(
            "/cash-handovers",
            headers=foreign_staff(runtime),
            json={
                "site": FOREIGN,
                "worker": "eng-01",
                "day": taken["collected_on"],
                "counted_cents": 5000,
                "note": SECRET,
            },
        )
    )
    return taken["payment"]["id"], handover["id"]


async def foreign_waiver_and_dunning_step(runtime: Runtime, charge_id: str) -> tuple[str, str]:
    """A late-fee waiver asked for, a dunning step taken and an instalment plan agreed at the foreign site, as
    billing records them (a real late fee and real arrears would take months of the foreign site's calendar)."""
    from billing.dunning.models import DunningStep, InstallmentPlan
    from billing.latefee.models import LateFeeWaiver

    now = datetime.now(UTC)
    async with runtime.sessionmaker() as session:
        session.add(
            LateFeeWaiver(
                id="waiver-foreign",
                site=FOREIGN,
                unit_id=FOREIGN_UNIT,
                charge_id=charge_id,
                amount_cents=100,
                reason=SECRET,
                status="requested",
                requested_by="clerk.riverside",
                requested_at=now,
            )
        )
        session.add(
            DunningStep(
                id="step-foreign",
                site=FOREIGN,
                unit_id=FOREIGN_UNIT,
                episode=now.date(),
                action="letter",
                days_overdue=95,
                overdue_cents=778100,
                payer_party_id=FOREIGN_PARTY,
                extra_care=True,
                status="awaiting_approval",
                created_at=now,
            )
        )
        session.add(
            InstallmentPlan(
                id="plan-foreign",
                site=FOREIGN,
                unit_id=FOREIGN_UNIT,
                total_cents=778100,
                schedule=[{"due": "2099-01-01", "amount_cents": 778100}],
                status="active",
                note=SECRET,
                agreed_by="clerk.riverside",
                agreed_at=now,
            )
        )
        await session.commit()
    return "waiver-foreign", "step-foreign"


async def dispatch_setup(runtime: Runtime, client: httpx.AsyncClient) -> Walk:
    await deliver(
        runtime,
        envelope(
            runtime,
            "intake.request.created.v1",
            {
                "request_id": "req-foreign",
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "description": f"Leak {SECRET}",
                "reporter": {
                    "party_id": FOREIGN_PARTY,
                    "name": "Zhao Lei",
                    "phone": "13900000011",
                    "language": "zh-CN",
                },
            },
            "evt-foreign-request",
            correlationid="req-foreign",
        ),
    )
    listing = await created(await client.get("/work-orders", params={"site": FOREIGN}, headers=foreign_staff(runtime)))
    [order] = listing["items"]
    assert order["department"] == "engineering"
    # The walk's work order is a decoration inspection's: every work-order route applies to it, its own too.
    await deliver(
        runtime,
        envelope(
            runtime,
            "intake.decoration.inspection_requested.v1",
            {"inspection_id": "di-foreign", "site": FOREIGN, "unit_id": FOREIGN_UNIT, "note": f"Check {SECRET}"},
            "evt-foreign-inspection",
            correlationid="dp-foreign",
        ),
    )
    inspections = await created(
        await client.get("/work-orders", params={"request_id": "di-foreign"}, headers=foreign_staff(runtime))
    )
    [order] = inspections["items"]
    walk = Walk(
        values={
            "work_order_id": order["id"],
            "site": FOREIGN,
            "code": "engineering",
            "staff_id": "eng.riverside",
            "category": "water",
            "limit_class": "normal",
            "department": "engineering",
        },
        query={"request_id": "req-foreign", "department": "engineering"},
        site_keys={"code", "staff_id", "category", "limit_class"},
    )
    walk.bodies = {
        ("POST", "/work-orders/{work_order_id}/complete"): {"result": "Fixed", "minutes_spent": 10},
        ("POST", "/work-orders/{work_order_id}/transfer"): {"department": "cleaning", "reason": "not ours"},
        ("POST", "/work-orders/{work_order_id}/pause"): {"waiting_for": "parts", "reason": "cartridge"},
        ("POST", "/work-orders/{work_order_id}/assign"): {"assignee": "eng.riverside"},
        ("POST", "/work-orders/{work_order_id}/reroute"): {"priority": "high", "reason": "worse"},
        ("POST", "/work-orders/{work_order_id}/inspection-result"): {"items": [{"code": "walls", "ok": True}]},
    }
    return walk


async def survey_setup(runtime: Runtime, client: httpx.AsyncClient) -> Walk:
    staff = foreign_staff(runtime)
    await deliver(
        runtime,
        envelope(
            runtime,
            "dispatch.workorder.completed.v1",
            {
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "work_order_id": "wo-foreign",
                "request_id": "req-foreign",
                "result": SECRET,
                "completed_at": datetime.now(UTC).isoformat(),
            },
            "evt-foreign-completed",
            department="engineering",
            correlationid="req-foreign",
        ),
    )
    followups = await created(await client.get("/follow-ups", params={"site": FOREIGN}, headers=staff))
    [followup] = followups["items"]
    survey = await created(
        await client.post(
            "/surveys",
            headers=staff,
            json={"site": FOREIGN, "title": SECRET, "questions": [{"kind": "scale", "text": SECRET}]},
        )
    )
    await created(await client.post(f"/surveys/{survey['id']}/send", headers=staff))
    invitations = await created(await client.get("/invitations", params={"survey_id": survey["id"]}, headers=staff))
    invitation = next(i for i in invitations["items"] if i["party_id"] == FOREIGN_PARTY)
    visit = await created(
        await client.post("/visits", headers=staff, json={"site": FOREIGN, "unit_id": FOREIGN_UNIT, "notes": SECRET})
    )
    walk = Walk(
        values={
            "followup_id": followup["id"],
            "survey_id": survey["id"],
            "invitation_id": invitation["id"],
            "visit_id": visit["id"],
            "party_id": FOREIGN_PARTY,
            "site": FOREIGN,
            "category": "water",
        },
        query={"request_id": "req-foreign", "survey_id": survey["id"], "unit_id": FOREIGN_UNIT},
    )
    question = survey["questions"][0]["id"]
    walk.bodies = {
        ("POST", "/surveys"): {"site": FOREIGN, "title": "t", "questions": [{"kind": "scale", "text": "q"}]},
        ("POST", "/visits"): {"site": FOREIGN, "unit_id": FOREIGN_UNIT, "notes": "n"},
        ("POST", "/follow-ups/{followup_id}/result"): {"solved": True},
        ("POST", "/follow-ups/{followup_id}/answer"): {"solved": True},
        ("POST", "/invitations/{invitation_id}/answer"): {"answers": [{"question_id": question, "value": 5}]},
        ("POST", "/invitations/{invitation_id}/phone-answer"): {"answers": [{"question_id": question, "value": 5}]},
        ("PUT", "/sites/{site}/followup-policies/{category}"): {"mode": "always"},
    }
    return walk


async def notification_setup(runtime: Runtime, client: httpx.AsyncClient) -> Walk:
    await deliver(
        runtime,
        envelope(
            runtime,
            "intake.request.created.v1",
            {
                "request_id": "req-foreign",
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "description": f"Leak {SECRET}",
                "reporter": {
                    "party_id": FOREIGN_PARTY,
                    "name": "Zhao Lei",
                    "phone": "13900000011",
                    "language": "zh-CN",
                },
            },
            "evt-foreign-request",
            correlationid="req-foreign",
        ),
    )
    await deliver(
        runtime,
        envelope(
            runtime,
            "intake.request.replied.v1",
            {
                "request_id": "req-foreign",
                "site": FOREIGN,
                "unit_id": FOREIGN_UNIT,
                "party_id": FOREIGN_PARTY,
                "message": SECRET,
            },
            "evt-foreign-reply",
            correlationid="req-foreign",
        ),
    )
    staff = foreign_staff(runtime)
    messages = await created(
        await client.get("/messages", params={"site": FOREIGN, "party_id": FOREIGN_PARTY}, headers=staff)
    )
    message = next(m for m in messages["items"] if m["party_id"] == FOREIGN_PARTY)
    starts = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    broadcast = await created(
        await client.post(
            "/broadcasts",
            headers=staff,
            json={"site": FOREIGN, "kind": "notice", "title": SECRET, "message": SECRET, "scheduled_at": starts},
        )
    )
    walk = Walk(
        values={
            "message_id": message["id"],
            "broadcast_id": broadcast["id"],
            "party_id": FOREIGN_PARTY,
            "staff_id": "sup.riverside",
            "site": FOREIGN,
            "key": "request.replied",
            "language": "zh-CN",
        },
        query={"party_id": FOREIGN_PARTY, "request_id": "req-foreign", "broadcast_id": broadcast["id"]},
        site_keys={"key", "language"},
    )
    walk.bodies = {
        ("POST", "/broadcasts"): {
            "site": FOREIGN,
            "kind": "notice",
            "title": "t",
            "message": "m",
            "scheduled_at": starts,
        },
        # Staff ids are unique across sites: one of the intruder's own site must not take over riverside's.
        ("PUT", "/staff/{staff_id}"): lambda intruder: {"site": intruder.home, "role": "supervisor", "name": "Wu"},
        ("POST", "/one-time-codes"): {"site": FOREIGN, "phone": "13900000099", "code": "123456"},
    }
    return walk


@dataclass(frozen=True)
class Service:
    name: str
    setup: Setup
    # Routes the walk cannot exercise meaningfully, with the reason; a route neither walked nor listed fails.
    unwalked: dict[tuple[str, str], str] = field(default_factory=dict)


SERVICES = {
    "intake": Service("intake", intake_setup),
    "billing": Service("billing", billing_setup),
    "dispatch": Service("dispatch", dispatch_setup),
    "survey": Service("survey", survey_setup),
    "notification": Service("notification", notification_setup),
}
# Routes every app has from pm_platform (health needs no token; dead letters have their own test).
COMMON_UNWALKED = {
    ("GET", "/healthz"): "public liveness probe, no data",
    ("GET", "/readyz"): "public readiness probe, no data",
    ("GET", "/metrics"): "public Prometheus scrape: counts only, labelled by route, durable and site code",
}


def routes(app: FastAPI) -> list[tuple[str, RouteContext]]:
    """Every (method, API route) of the app, its included routers' routes with their prefixes."""
    return sorted(
        (
            (method, route)
            for route in iter_route_contexts(app.routes)
            if isinstance(route.original_route, APIRoute)
            for method in route.methods or ()
        ),
        key=lambda item: (str(item[1].path), item[0]),
    )


async def foreign_dead_letter(runtime: Runtime) -> str:
    """A dead letter of the foreign site, as a consumer records it (every service has the table)."""
    table = runtime.tables.dead_letters
    async with runtime.sessionmaker() as session:
        result = await session.execute(
            insert(table).values(
                consumer="route-scope",
                stream="INTAKE",
                stream_sequence=1,
                subject=f"intake.request.created.v1.{FOREIGN}",
                event_id="evt-dead",
                event_type="intake.request.created.v1",
                payload=json.dumps({"site": FOREIGN, "data": {"description": SECRET}}),
                headers="{}",
                kind="contract",
                reason="broken",
                deliveries=1,
                status="open",
                created_at=datetime.now(UTC),
            )
        )
        await session.commit()
    return str(result.inserted_primary_key[0])


@pytest.fixture(params=sorted(SERVICES))
async def service(request: pytest.FixtureRequest, database_urls: dict[str, str], tmp_path: Path):
    spec = SERVICES[request.param]
    name = spec.name
    main = importlib.import_module(f"{name}.main")
    database = importlib.import_module(f"{name}.database")
    seed = importlib.import_module(f"{name}.seed").seed
    settings = Settings(service=name, var_dir=tmp_path, database_url=database_urls[name])
    await asyncio.to_thread(migrations.upgrade, name, settings)
    runtime = Runtime(settings, database.Base.metadata, database.platform_tables, main.subscriptions)
    await seed(runtime)
    app = main.create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        walk = await spec.setup(runtime, client)
        walk.values["dead_letter_id"] = await foreign_dead_letter(runtime)
        yield spec, runtime, app, client, walk
    await runtime.engine.dispose()


# --- bodies from the route's own schema, with the foreign objects filled in ---------------------------------


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(schema: dict[str, Any], components: dict[str, Any], values: dict[str, str], name: str = "") -> Any:
    schema = _resolve(schema, components)
    if name in values:
        return values[name]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, components).get("type") != "null"]
            return example(options[0], components, values, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            key: example(sub, components, values, key)
            for key, sub in properties.items()
            if key in schema.get("required", []) or key in values
        }
    if kind == "array":
        return [example(schema.get("items", {}), components, values) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return False
    if schema.get("format") == "date":
        return date.today().isoformat()
    if schema.get("format") == "date-time":
        return (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return "x" * max(int(schema.get("minLength", 1)), 1)


def request_body(app: FastAPI, method: str, route: RouteContext, walk: Walk) -> Callable[[Intruder], Any]:
    """The body an intruder sends: the service's own for the route (a value, or a function of the intruder),
    else one made from the route's schema with the foreign objects filled in."""
    given = walk.bodies.get((method, str(route.path)))
    if callable(given):
        return given
    if given is not None:
        return lambda _: given
    if route.body_field is None:
        return lambda _: None
    openapi = app.openapi()
    operation = openapi["paths"][route.path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    body = example(schema, openapi.get("components", {}).get("schemas", {}), walk.values)
    return lambda _: body


# --- the walk --------------------------------------------------------------------------------------------


def markers(intruder: Intruder) -> tuple[str, ...]:
    if intruder.name == "other-department":
        # A worker of the site sees the archive with phone numbers masked (the owner's name is what they ask
        # for at the door), never another department's work or a full phone number.
        return ("13900000011", SECRET)
    return (*OWNER_MARKERS, SECRET)


async def call(
    client: httpx.AsyncClient,
    runtime: Runtime,
    intruder: Intruder,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
) -> httpx.Response:
    headers = bearer(
        runtime,
        list(intruder.roles),
        list(intruder.sites),
        intruder.department,
        intruder.party_id,
        subject=f"intruder.{intruder.name}",
    )
    if isinstance(body, str):
        return await client.request(
            method, path, params=params, content=body, headers={**headers, "content-type": "text/csv"}
        )
    return await client.request(method, path, params=params, json=body, headers=headers)


def judge(
    intruder: Intruder,
    method: str,
    route: RouteContext,
    response: httpx.Response,
    *,
    names_foreign: bool,
    site_keys: set[str],
) -> str | None:
    """Why the response is a hole (None when it is not)."""
    found = markers(intruder)
    if response.is_success and intruder.name != "other-department":
        # An answer (not a refusal naming what it refuses) carries no id of the foreign owner's unit or party.
        found = (*found, FOREIGN_UNIT, FOREIGN_PARTY)
    leaked = [m for m in found if m in response.text]
    if leaked:
        return f"{response.status_code} shows foreign data {leaked}"
    if response.status_code in (403, 404):
        return None
    path_params = set(route.param_convertors) - site_keys
    if FOREIGN not in intruder.sites and (names_foreign or path_params):
        why = f"a route naming {FOREIGN}"
    elif method in WRITE and path_params & OBJECT_PARAMS:
        why = "a write on another's object"
    elif intruder.name == "other-department" and "work_order_id" in path_params:
        why = "another department's work order"
    elif "owner" in intruder.roles and path_params & OBJECT_PARAMS:
        why = "another owner's object"
    elif response.status_code >= 500:
        return f"{response.status_code}: {response.text[:200]}"
    else:
        return None  # the intruder's own scope: an answer without foreign data is fine
    if response.status_code == 422:
        return f"422 for {why}: the walk did not reach the scope check: {response.text[:300]}"
    return f"{response.status_code} for {why}: {response.text[:200]}"


async def test_every_route_refuses_intruders_and_shows_them_no_foreign_data(service) -> None:
    spec, runtime, app, client, walk = service
    unwalked = {**COMMON_UNWALKED, **spec.unwalked}
    holes: list[str] = []
    walked = 0
    for method, route in routes(app):
        if (method, route.path) in unwalked:
            continue
        missing = set(route.param_convertors) - set(walk.values)
        assert not missing, (
            f"{method} {route.path}: no foreign object for {missing}; create one in the "
            f"service's setup or list the route in its unwalked routes with the reason"
        )
        path = str(route.path).format(**{name: walk.values[name] for name in route.param_convertors})
        query = {param.name for param in route.dependant.query_params}
        site_optional = method == "GET" and any(
            param.name == "site" and not param.field_info.is_required() for param in route.dependant.query_params
        )
        body_of = request_body(app, method, route, walk)
        for intruder in INTRUDERS:
            body = body_of(intruder)
            names_foreign = isinstance(body, dict) and body.get("site") == FOREIGN
            variants: list[dict[str, str]] = [{}]
            if "site" in query:
                variants = [{"site": intruder.home}, {"site": FOREIGN}, *([{}] if site_optional else [])]
            extras = {name: walk.query[name] for name in query - {"site"} if name in walk.query}
            if extras:
                # With the foreign filters (a unit, a request, a department), and, for a listing, without them.
                variants = [{**v, **extras} for v in variants] + (variants if method == "GET" else [])
            for params in variants:
                response = await call(client, runtime, intruder, method, path, params, body)
                walked += 1
                hole = judge(
                    intruder,
                    method,
                    route,
                    response,
                    site_keys=walk.site_keys,
                    names_foreign=names_foreign or params.get("site") == FOREIGN,
                )
                if hole:
                    holes.append(f"{intruder.name}: {method} {path} {params}: {hole}")
    assert walked
    assert not holes, "\n".join(holes)
    # The objects are real and the markers there to be found: riverside's own staff read every object route
    # just walked, and see the markers on some.
    seen, absent = [], []
    for method, route in routes(app):
        if method == "GET" and set(route.param_convertors) & OBJECT_PARAMS and (method, route.path) not in unwalked:
            path = str(route.path).format(**{name: walk.values[name] for name in route.param_convertors})
            response = await client.get(path, params={"site": FOREIGN}, headers=foreign_staff(runtime))
            if not response.is_success:
                absent.append(f"{path}: {response.status_code} {response.text[:200]}")
            seen += [path for m in (*OWNER_MARKERS, SECRET) if m in response.text]
    assert not absent, "\n".join(absent)
    assert seen, "no foreign object shows a marker to its own site's staff: the walk would prove nothing"


def test_every_listed_route_exists() -> None:
    """A route listed as unwalked that no longer exists is removed from the list."""
    for spec in SERVICES.values():
        app = importlib.import_module(f"{spec.name}.main").create(
            Runtime(
                Settings(service=spec.name, database_url="sqlite+aiosqlite://"),
                importlib.import_module(f"{spec.name}.database").Base.metadata,
                importlib.import_module(f"{spec.name}.database").platform_tables,
            )
        )
        present = {(method, str(route.path)) for method, route in routes(app)}
        listed = {*COMMON_UNWALKED, *spec.unwalked}
        assert listed <= present, listed - present
