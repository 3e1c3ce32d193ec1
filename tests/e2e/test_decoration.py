"""A decoration permit from application to deposit refund, across the five services as real processes on a real
nats-server, each step by the person who takes it (the README's walk): the owner applies, engineering reviews,
billing asks for the deposit and the clerk receives it, works start only then, dispatch's engineer inspects, a
violation is fined, the completion inspection passes, the desk settles, billing returns the deposit less the
fine and the damage, notification tells the neighbours and the payer, and the permit's timeline holds it all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.conftest import Stack, eventually, items

pytestmark = pytest.mark.timeout(300)

UNIT, OWNER = "harbour-A-0101", "harbour-A-0101-owner"
NEIGHBOUR = "harbour-A-0102"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


class Permit:
    """One permit's calls against the running intake."""

    def __init__(self, stack: Stack, permit_id: str) -> None:
        self.stack, self.id = stack, permit_id

    def act(self, step: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(self.stack.url("intake", f"/decoration-permits/{self.id}/{step}"), json=body, headers=headers)

    def read(self, headers: dict[str, str]) -> dict[str, Any]:
        return ok(httpx.get(self.stack.url("intake", f"/decoration-permits/{self.id}"), headers=headers))

    def when(self, headers: dict[str, str], check: Any) -> dict[str, Any]:
        return eventually(lambda: (lambda permit: permit if check(permit) else None)(self.read(headers)))


def inspect(stack: Stack, inspection_id: str, worker: dict[str, str], failing: set[str]) -> None:
    """Dispatch's engineer takes the inspection's work order and answers its checklist."""

    def order() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("dispatch", "/work-orders"),
            params={"site": "harbour", "request_id": inspection_id},
            headers=worker,
        )
        return next(iter(items(listing.json())), None)

    work = eventually(order)
    assert work["category"] == "decoration_inspection" and work["department"] == "engineering"
    checklist = ok(httpx.get(stack.url("dispatch", f"/work-orders/{work['id']}/inspection"), headers=worker))
    for step in ("claim", "arrive"):
        ok(httpx.post(stack.url("dispatch", f"/work-orders/{work['id']}/{step}"), headers=worker))
    answers = [
        {
            "code": item["code"],
            "ok": item["code"] not in failing,
            "note": "see photo" if item["code"] in failing else None,
        }
        for item in checklist["checklist"]
    ]
    ok(
        httpx.post(
            stack.url("dispatch", f"/work-orders/{work['id']}/inspection-result"),
            json={"items": answers},
            headers=worker,
        )
    )


def test_a_decoration_permit_from_application_to_deposit_refund(stack: Stack) -> None:
    owner = stack.token(OWNER, ["owner"], ["harbour"], party=OWNER)
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    worker = stack.token("eng.harbour", ["worker"], ["harbour"], department="engineering")
    clerk = stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])
    manager = stack.token("manager.harbour", ["manager"], ["harbour"])
    guard = stack.token("guard.harbour", ["security"], ["harbour"])

    # 1. The owner applies, with the plan (works from the site's today: Shanghai's date, not UTC's).
    site_today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    application = {
        "unit_id": UNIT,
        "scope": ["kitchen retiling"],
        "description": "Kitchen renovation",
        "contractor": {
            "company": "Bright Home",
            "licence_number": "JZ-1",
            "manager_name": "Qian Jun",
            "manager_phone": "13912345678",
        },
        "workers": [{"name": "Zhou Gang", "id_last4": "123X", "trade": "tiler"}],
        "works_from": site_today.isoformat(),
        "works_to": (site_today + timedelta(days=30)).isoformat(),
    }
    permit = Permit(
        stack, ok(httpx.post(stack.url("intake", "/decoration-permits"), json=application, headers=owner), 201)["id"]
    )
    ok(
        httpx.post(
            stack.url("intake", f"/decoration-permits/{permit.id}/files"),
            data={"purpose": "plan"},
            files={"file": ("plan.pdf", b"%PDF-1.4 kitchen plan", "application/pdf")},
            headers=owner,
        ),
        201,
    )

    # 2. Engineering reviews every item of the site's checklist and approves with a condition.
    settings = ok(httpx.get(stack.url("intake", "/sites/harbour/decoration-settings"), headers=agent))
    ok(permit.act("start-review", worker))
    review = {
        "result": "approve_with_conditions",
        "conditions": ["Water-test the wet areas for 48 hours"],
        "checklist": [{"code": item["code"], "ok": True} for item in settings["checklist"]],
    }
    ok(permit.act("review", worker, review))

    # 3. Billing asks for the deposit; works may not start before it is paid; the clerk receives it.
    def deposit() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("billing", "/deposits"), params={"site": "harbour", "unit_id": UNIT}, headers=clerk
        )
        return next((d for d in items(listing.json()) if d["reference"] == permit.id), None)

    held = eventually(deposit)
    assert held["status"] == "requested" and held["amount_cents"] == permit.read(agent)["deposit_cents"] > 0
    refused = permit.act("start-works", agent)
    assert refused.status_code == 409, refused.text
    ok(httpx.post(stack.url("billing", f"/deposits/{held['id']}/receive"), json={"method": "card"}, headers=clerk))
    permit.when(agent, lambda p: p["deposit_status"] == "paid")
    ok(permit.act("start-works", agent))
    number = permit.read(agent)["passes"][0]["number"]
    at_gate = ok(httpx.get(stack.url("intake", f"/decoration-passes/{number}"), headers=guard))
    assert at_gate["valid"] is True and "13912345678" not in str(at_gate)

    # The neighbours are told of the works.
    def neighbour_told() -> dict[str, Any] | None:
        listing = httpx.get(
            stack.url("notification", "/messages"), params={"party_id": f"{NEIGHBOUR}-owner"}, headers=manager
        )
        return next((m for m in items(listing.json()) if m["template"] == "decoration.neighbours"), None)

    assert "A-0101" in eventually(neighbour_told)["body"]

    # 4. A routine inspection by dispatch's engineer finds the wet areas untested: a violation, then a fine by hand.
    ok(permit.act("inspections", agent, {"kind": "routine"}), 201)
    routine = permit.read(agent)["inspections"][0]
    inspect(stack, routine["id"], worker, failing={"wet_areas"})
    permit.when(agent, lambda p: any(i["id"] == routine["id"] and i["status"] != "requested" for i in p["inspections"]))
    fine = {"description": "Drilling at 21:00", "fine_cents": 20000, "fine_reason": "Noisy work outside the hours"}
    ok(permit.act("violations", agent, fine), 201)

    # 5. The owner asks for the completion inspection; it passes.
    ok(permit.act("completion", owner))
    completion = next(i for i in permit.read(agent)["inspections"] if i["kind"] == "completion")
    inspect(stack, completion["id"], worker, failing=set())
    permit.when(agent, lambda p: p["status"] == "completed")

    # 6. The desk settles with a damage deduction; billing returns the deposit less the fine and the damage.
    damage = {"deductions": [{"kind": "damage", "reason": "Scratched lift door", "amount_cents": 30000}]}
    ok(permit.act("settlement", agent, damage))
    closed = permit.when(agent, lambda p: p["status"] == "closed")
    assert closed["returned_cents"] == held["amount_cents"] - 20000 - 30000
    returned = ok(httpx.get(stack.url("billing", f"/deposits/{held['id']}"), headers=clerk))
    assert (returned["status"], returned["returned_cents"]) == ("returned", closed["returned_cents"])

    def payer_told() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("notification", "/messages"), params={"party_id": OWNER}, headers=manager)
        return next((m for m in items(listing.json()) if m["template"] == "deposit.returned"), None)

    assert eventually(payer_told)

    # The whole history is one timeline, application to refund, and the unit's timeline shows it too.
    timeline = ok(httpx.get(stack.url("intake", f"/decoration-permits/{permit.id}/timeline"), headers=agent))
    moves = [e["data"]["to_status"] for e in timeline if e["event_type"] == "intake.decoration.status_changed.v1"]
    assert moves[0] == "applied" and moves[-1] == "closed"
    assert {"approved", "in_works", "completion_requested", "completed", "settled"} <= set(moves)
    assert "deposit returned" in timeline[-1]["summary"]
    unit = ok(httpx.get(stack.url("intake", f"/units/{UNIT}/timeline"), headers=agent))
    assert any(entry.get("procedure_id") == permit.id for entry in unit)
