"""The thin path through all five services as real processes on a real nats-server, with one trace.

An agent posts a repair to intake; dispatch routes a work order to engineering; notification records
messages to the owner in the file sink; the engineering worker completes the order with a charge;
survey schedules the follow-up, billing records the charge, and intake's timeline gathers it all.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pm_platform.tracefiles import load_all_spans, service_of
from tests.e2e.conftest import Stack, eventually, items

pytestmark = pytest.mark.timeout(180)


def test_a_repair_runs_through_all_five_services_in_one_trace(stack: Stack) -> None:
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    worker = stack.token("eng.harbour", ["worker"], ["harbour"], department="engineering")
    repair = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "water",
        "priority": "normal",
        "description": "Kitchen tap leaking",
        "unit_id": "harbour-A-0101",
        "in_unit": True,
        "reporter": {"party_id": "harbour-A-0101-owner", "name": "Li Wei", "phone": "13800000001"},
    }
    response = httpx.post(stack.url("intake", "/requests"), json=repair, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]

    def work_order() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("dispatch", "/work-orders"), params={"site": "harbour"}, headers=worker)
        return next((w for w in items(listing.json()) if w["request_id"] == request_id), None)

    order = eventually(work_order)
    assert order["department"] == "engineering"

    def owner_messages() -> list[dict[str, Any]]:
        listing = httpx.get(
            stack.url("notification", "/messages"), params={"request_id": request_id, "site": "harbour"}, headers=agent
        )
        return [m for m in items(listing.json()) if m["status"] == "sent"]

    eventually(lambda: len(owner_messages()) >= 2)

    completion = {
        "result": "Replaced the tap cartridge",
        "parts": ["tap cartridge"],
        "minutes_spent": 35,
        "charge": {"item": "Tap cartridge replacement", "amount_cents": 8000, "currency": "CNY"},
    }
    response = httpx.post(
        stack.url("dispatch", f"/work-orders/{order['id']}/complete"), json=completion, headers=worker
    )
    assert response.status_code == 200, response.text

    def followups() -> list[dict[str, Any]]:
        listing = httpx.get(stack.url("survey", "/follow-ups"), params={"site": "harbour"}, headers=agent)
        return [f for f in items(listing.json()) if f["request_id"] == request_id]

    assert len(eventually(followups)) == 1
    clerk = stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])

    # The unit's account is shared with the package's other walks (a decoration fee, say): find this repair's charge.
    def charge() -> dict[str, Any] | None:
        body = httpx.get(
            stack.url("billing", "/accounts/harbour-A-0101"), params={"site": "harbour"}, headers=clerk
        ).json()
        return next((c for c in body.get("charges", []) if c.get("request_id") == request_id), None)

    assert eventually(charge)["amount_cents"] == 8000

    def resolved_request() -> dict[str, Any] | None:
        body = httpx.get(stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
        sources = {entry["source"] for entry in body["timeline"]}
        return body if body["status"] == "resolved" and {"dispatch", "survey", "billing"} <= sources else None

    detail = eventually(resolved_request)
    assert {"intake", "dispatch", "survey", "billing", "notification"} <= {e["source"] for e in detail["timeline"]}

    sink = [json.loads(line) for line in (stack.var_dir / "notifications" / "sink.jsonl").read_text().splitlines()]
    assert any(request_id in json.dumps(line) for line in sink)

    # One trace from the agent's POST through intake, dispatch and notification.
    def request_trace() -> list[dict[str, Any]] | None:
        spans = load_all_spans(stack.var_dir)
        ours = {
            s["context"]["trace_id"] for s in spans if s.get("attributes", {}).get("pm.correlation_id") == request_id
        }
        roots = [
            s
            for s in spans
            if service_of(s) == "intake"
            and s["name"].startswith("POST /requests")
            and s.get("parent_id") is None
            and s["context"]["trace_id"] in ours
        ]
        if not roots:
            return None
        trace_id = roots[0]["context"]["trace_id"]
        in_trace = [s for s in spans if s["context"]["trace_id"] == trace_id]
        services = {service_of(s) for s in in_trace}
        return in_trace if {"intake", "dispatch", "notification"} <= services else None

    in_trace = eventually(request_trace, timeout=15)
    names = {(service_of(s), s["name"]) for s in in_trace}
    assert ("intake", "publish intake.request.created.v1.harbour") in names
    assert ("dispatch", "consume intake.request.created.v1.harbour") in names
    assert ("dispatch", "publish dispatch.workorder.created.v1.harbour.engineering") in names
    assert ("notification", "consume dispatch.workorder.created.v1.harbour.engineering") in names
    sql_prefixes = ("SELECT", "INSERT", "BEGIN", "connect")
    assert any(service == "intake" and name.startswith(sql_prefixes) for service, name in names)
