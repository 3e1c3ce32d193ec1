"""The whole request lifecycle across the five services as real processes on a real nats-server.

An agent records a repair; it lands in engineering's pool; the engineer claims it, goes, arrives and
completes it with a price-list charge; billing charges the unit; survey schedules the follow-up; the
owner is not satisfied, so intake reopens and escalates the request and dispatch opens rework for the
same department; notification tells the owner along the way; intake's timeline gathers it all.

And the whole life is one trace: the request's trace holds every service's part (every event, every
message), and each HTTP step on the work order or the follow-up is a trace of its own linked both ways with
it; `pm trace <request id>` shows them all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pm_platform.tracefiles import carries_request, links_of, load_all_spans, roots, service_of, trace_of
from tests.e2e.conftest import Stack, eventually, items

pytestmark = pytest.mark.timeout(240)

UNIT = "harbour-A-0102"
OWNER = "harbour-A-0102-owner"


def test_a_failed_follow_up_reopens_the_request_and_sends_the_department_back(stack: Stack) -> None:
    agent = stack.token("agent.harbour", ["agent"], ["harbour"])
    worker = stack.token("eng.harbour", ["worker"], ["harbour"], department="engineering")
    other_worker = stack.token("clean.harbour", ["worker"], ["harbour"], department="cleaning")
    clerk = stack.token("clerk.harbour", ["billing_clerk"], ["harbour"])
    repair = {
        "site": "harbour",
        "kind": "repair",
        "channel": "phone",
        "category": "drainage",
        "priority": "normal",
        "description": "Bathroom floor drain blocked",
        "unit_id": UNIT,
        "in_unit": True,
        "reporter": {"party_id": OWNER, "name": "Wang Fang", "phone": "13800000002"},
    }
    response = httpx.post(stack.url("intake", "/requests"), json=repair, headers=agent)
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]

    # Engineering works from a pool: the order waits there to be claimed.
    def pooled() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("dispatch", "/work-orders/pool"), params={"site": "harbour"}, headers=worker)
        return next((w for w in items(listing.json()) if w["request_id"] == request_id), None)

    order = eventually(pooled)
    assert order["department"] == "engineering"
    # Another department's worker can neither see it nor act on it.
    denied = httpx.post(stack.url("dispatch", f"/work-orders/{order['id']}/claim"), headers=other_worker)
    assert denied.status_code in (403, 404), denied.text
    assert denied.headers["content-type"].startswith("application/problem+json")

    steps = 0  # the HTTP steps on the request's aggregates: each one a trace linked with the request's
    for step in ("claim", "on-the-way", "arrive"):
        response = httpx.post(stack.url("dispatch", f"/work-orders/{order['id']}/{step}"), headers=worker)
        assert response.status_code == 200, f"{step}: {response.text}"
    assert response.json()["status"] == "on_site"
    # Completing twice is not a thing: an illegal transition answers 409 and changes nothing.
    completion = {
        "result": "Cleared the floor drain",
        "parts": [],
        "minutes_spent": 40,
        "charge": {"code": "drain_unblock", "quantity": 1},
    }
    response = httpx.post(
        stack.url("dispatch", f"/work-orders/{order['id']}/complete"), json=completion, headers=worker
    )
    assert response.status_code == 200, response.text
    again = httpx.post(stack.url("dispatch", f"/work-orders/{order['id']}/complete"), json=completion, headers=worker)
    assert again.status_code == 409, again.text
    steps += 5  # claim, on-the-way, arrive, complete, and the refused second complete

    # Billing charges the unit from the price list; intake's request moves on to resolved.
    def charged() -> dict[str, Any] | None:
        body = httpx.get(stack.url("billing", f"/accounts/{UNIT}"), params={"site": "harbour"}, headers=clerk).json()
        return body if any(c.get("request_id") == request_id for c in body.get("charges", [])) else None

    account = eventually(charged)
    [charge] = [c for c in account["charges"] if c["request_id"] == request_id]
    assert charge["amount_cents"] == 5000

    def request_status(status: str) -> dict[str, Any] | None:
        body = httpx.get(stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
        return body if body["status"] == status else None

    eventually(lambda: request_status("resolved"))

    # Survey's follow-up: the owner says it is not solved.
    def follow_up() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("survey", "/follow-ups"), params={"site": "harbour"}, headers=agent)
        return next((f for f in items(listing.json()) if f["request_id"] == request_id), None)

    visit = eventually(follow_up)
    result = {
        "solved": False,
        "scores": {"overall": 2, "speed": 3, "attitude": 4},
        "comment": "Drain blocked again the next morning",
    }
    response = httpx.post(stack.url("survey", f"/follow-ups/{visit['id']}/result"), json=result, headers=agent)
    assert response.status_code == 200, response.text
    steps += 1

    # Intake reopens and escalates (the rework order moves it on to in progress at once, so the history
    # tells, not the current status); dispatch opens rework for the same department.
    def reopened() -> dict[str, Any] | None:
        body = httpx.get(stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
        types = [entry["event_type"] for entry in body["timeline"]]
        return body if "intake.request.reopened.v1" in types else None

    detail = eventually(reopened)
    assert detail["escalated"] is True
    assert detail["status"] in ("reopened", "in_progress")

    def rework() -> dict[str, Any] | None:
        listing = httpx.get(stack.url("dispatch", "/work-orders"), params={"site": "harbour"}, headers=agent)
        return next(
            (w for w in items(listing.json()) if w["request_id"] == request_id and w["id"] != order["id"]), None
        )

    second = eventually(rework)
    assert second["department"] == "engineering" and second["rework"] is True

    # The owner heard about it along the way, and the timeline holds every service's part.
    def owner_messages() -> list[dict[str, Any]]:
        listing = httpx.get(
            stack.url("notification", "/messages"), params={"request_id": request_id, "site": "harbour"}, headers=agent
        )
        return [m for m in items(listing.json()) if m["status"] == "sent"]

    eventually(lambda: len(owner_messages()) >= 3)

    def full_timeline() -> dict[str, Any] | None:
        body = httpx.get(stack.url("intake", f"/requests/{request_id}"), headers=agent).json()
        sources = {entry["source"] for entry in body["timeline"]}
        return body if {"dispatch", "survey", "billing", "notification"} <= sources else None

    eventually(full_timeline)

    # One trace for the request's whole life, and one linked trace per HTTP step: no other root.
    expected_services = {"intake", "dispatch", "billing", "survey", "notification"}
    checked = eventually(lambda: _request_traces(stack.var_dir, request_id, steps, expected_services), timeout=30)
    assert checked["steps"] == steps
    output = subprocess.run(
        [str(Path(sys.executable).parent / "pm"), "trace", request_id, "--var-dir", str(stack.var_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"trace {checked['request']}" in output
    listed = {line.split()[1] for line in output.splitlines() if line.startswith("  ") and len(line.split()) > 2}
    assert expected_services <= listed
    assert output.count(f"-> linked to trace {checked['request']}") >= steps


def _request_traces(var_dir: Path, request_id: str, steps: int, services: set[str]) -> dict[str, Any] | None:
    """The request's trace and its step traces once every span of them is written, checked; else None."""
    spans = load_all_spans(var_dir)
    created = [s for s in spans if s["name"] == "POST /requests" and carries_request(s, request_id)]
    if len(created) != 1:
        return None
    request = trace_of(created[0])
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_trace.setdefault(trace_of(span), []).append(span)
    in_request = by_trace[request]
    # Every span of the request's trace hangs from the owner's POST (none is missing, none starts its own root).
    if roots(in_request) != created or not services <= {service_of(s) for s in in_request}:
        return None
    # Every trace in which a span carries the request is the request's or a step's.
    others = {trace_of(s) for s in spans if carries_request(s, request_id)} - {request}
    step_spans = [s for s in in_request if s["name"].startswith("step ")]
    if len(others) != steps or len(step_spans) != steps:
        return None
    for trace_id in others:
        [root] = roots(by_trace[trace_id])
        assert root["kind"] == "SpanKind.SERVER" and root["name"].startswith("POST /"), root["name"]
        assert links_of(root) == [request], f"{root['name']} does not link to the request's trace"
        assert root["attributes"]["pm.request_id"] == request_id
    # And the request's trace links back to each step.
    assert {target for s in step_spans for target in links_of(s)} == others
    # Every message to the owner and staff was sent inside the request's trace.
    sends = [s for s in spans if s["name"].startswith("send ") and carries_request(s, request_id)]
    assert sends and all(trace_of(s) == request for s in sends)
    return {"request": request, "steps": len(others)}
