"""Dispatch hears of a cancelled request and only the department's own staff claim from its pool (SQLite and
PostgreSQL, no NATS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.workorder.handlers import timers
from pm_platform.envelope import Envelope
from pm_platform.settings import REPO_ROOT
from pm_platform.timers import fire_due
from tests.services import test_dispatch as base
from tests.services.support import outbox_events
from tests.services.test_dispatch import (
    act,
    apply,
    new_order,
    request_created,
    status_changes,
    supervisor,
    work_orders,
    worker,
)

STATUS_CHANGED = "intake.request.status_changed.v1"

dispatch = base.dispatch  # the fixture, shared with the service's main tests


def request_status_changed(runtime, request_id: str, to_status: str, **changes: Any) -> Envelope:
    data = {
        **json.loads((REPO_ROOT / "contracts" / "examples" / f"{STATUS_CHANGED}.json").read_text()),
        "request_id": request_id,
        "from_status": "acknowledged",
        "to_status": to_status,
        **changes,
    }
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": f"evt-{request_id}-{to_status}",
            "source": "pm/intake",
            "type": STATUS_CHANGED,
            "subject": request_id,
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{STATUS_CHANGED}",
            "site": data["site"],
            "correlationid": request_id,
            "data": data,
        }
    )


async def test_a_cancelled_request_cancels_its_open_work_order_and_stops_its_clocks(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1", kind="emergency")
    claimed = await act(client, order, "claim", worker(runtime, "eng.harbour"))
    assert claimed.status_code == 200, claimed.text
    other = await new_order(runtime, client, "req-2")
    # Only a cancellation matters; other request moves leave the order alone.
    assert await apply(runtime, request_status_changed(runtime, "req-1", "in_progress")) == "handled"
    cancelled = request_status_changed(
        runtime, "req-1", "cancelled", reason="duplicate of req-0", actor="agent.harbour"
    )
    assert await apply(runtime, cancelled) == "handled"
    assert await apply(runtime, cancelled) == "duplicate"

    listing = (await client.get("/work-orders", headers=supervisor(runtime))).json()
    by_request = {o["request_id"]: o for o in listing["items"]}
    assert by_request["req-1"]["status"] == "cancelled" and by_request["req-2"]["status"] == other["status"]
    assert await status_changes(runtime, order["id"]) == [("created", "accepted"), ("accepted", "cancelled")]
    [(subject, event)] = [
        (s, e)
        for s, e in await outbox_events(runtime)
        if e.type == "dispatch.workorder.status_changed.v1" and e.data["to_status"] == "cancelled"
    ]
    # The worker who held it is named (notification and the department's subscription tell them).
    assert subject == "dispatch.workorder.status_changed.v1.harbour.engineering"
    assert (event.data["assignee"], event.data["reason"], event.data["actor"]) == (
        "eng.harbour",
        "request cancelled: duplicate of req-0",
        "agent.harbour",
    )
    assert event.causationid == cancelled.id and event.correlationid == "req-1"
    # Out of the pool and out of the worker's queue; none of its time limits fires any more.
    assert (await client.get("/work-orders/mine", headers=worker(runtime, "eng.harbour"))).json()["total"] == 0
    assert await fire_due(runtime, timers, now=datetime.now(UTC) + timedelta(days=30)) > 0  # req-2's
    timelimits = {
        e.data["work_order_id"] for _, e in await outbox_events(runtime) if e.type == "dispatch.workorder.timelimit.v1"
    }
    assert timelimits == {other["id"]}


async def test_a_cancellation_after_completion_changes_nothing(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1")
    done = await act(client, order, "complete", worker(runtime, "eng.harbour"), {"result": "Fixed"})
    assert done.status_code == 200, done.text
    before = await outbox_events(runtime)
    assert (
        await apply(runtime, request_status_changed(runtime, "req-1", "cancelled", reason="owner withdrew"))
        == "handled"
    )
    assert len(await outbox_events(runtime)) == len(before)


async def test_only_the_departments_own_staff_claim_from_its_pool(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1")
    assert order["status"] == "created"  # engineering works from a pool
    # A token for engineering, but nobody on engineering's staff at this site.
    stranger = await act(client, order, "claim", worker(runtime, "someone.else"))
    assert stranger.status_code == 403 and stranger.json()["field"] == "assignee"
    # On the staff, of another department (a cleaner holding an engineering token is still not engineering's).
    cleaner = await act(client, order, "claim", worker(runtime, "clean.harbour"))
    assert cleaner.status_code == 403
    # On engineering's staff at another site.
    elsewhere = await act(client, order, "claim", worker(runtime, "eng.riverside"))
    assert elsewhere.status_code == 403
    assert await status_changes(runtime, order["id"]) == []
    claimed = await act(client, order, "claim", worker(runtime, "eng.harbour"))
    assert claimed.status_code == 200 and claimed.json()["assignee"] == "eng.harbour"


CLASSIFIED = "intake.request.classified.v1"


def classified(
    runtime, request_id: str, complaint_class: str, department: str | None, n: int = 0, **changes: Any
) -> Envelope:
    data = {
        **json.loads((REPO_ROOT / "contracts" / "examples" / f"{CLASSIFIED}.json").read_text()),
        "request_id": request_id,
        "category": "water",
        "complaint_class": complaint_class,
        "department": department,
        "priority": "high",
        "in_unit": False,
        "location": None,
        "appointment": None,
        "created_at": "2026-11-23T08:30:00+00:00",
        **changes,
    }
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": f"evt-{request_id}-classified-{n}",
            "source": "pm/intake",
            "type": CLASSIFIED,
            "subject": request_id,
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{CLASSIFIED}",
            "site": data["site"],
            "correlationid": request_id,
            "data": data,
        }
    )


async def test_a_complaint_is_worked_by_the_department_its_classification_names(dispatch) -> None:
    runtime, _ = dispatch
    # A water complaint: routing would send water to engineering, but it waits for its classification.
    assert (
        await apply(
            runtime,
            request_created(
                runtime, "evt-c", request_id="req-c", kind="complaint", category="water", priority="high", in_unit=False
            ),
        )
        == "handled"
    )
    assert await work_orders(runtime) == []
    assert await apply(runtime, classified(runtime, "req-c", "venting", None, 0)) == "handled"
    assert await work_orders(runtime) == []  # communicative: the service center follows it up

    # Valid, and security is responsible (say, a guard let the water be shut off): security gets the order.
    valid = classified(runtime, "req-c", "valid", "security", 1)
    assert await apply(runtime, valid) == "handled"
    [order] = await work_orders(runtime)
    assert (order.department, order.kind, order.priority, order.status in ("created", "assigned")) == (
        "security",
        "complaint",
        "high",
        True,
    )
    [(subject, created)] = [
        (s, e) for s, e in await outbox_events(runtime) if e.type == "dispatch.workorder.created.v1"
    ]
    assert subject == "dispatch.workorder.created.v1.harbour.security"
    assert created.data["department"] == "security" and created.causationid == valid.id
    # The owner's clock started when the complaint was recorded, not when it was classified.
    assert datetime.fromisoformat(created.data["acceptance_due_at"]) == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

    # Classified again for cleaning: the same order moves there (the owner hears it from the transfer).
    assert await apply(runtime, classified(runtime, "req-c", "valid", "cleaning", 2)) == "handled"
    [order] = await work_orders(runtime)
    assert order.department == "cleaning"
    moves = [
        e.data
        for _, e in await outbox_events(runtime)
        if e.type == "dispatch.workorder.status_changed.v1" and e.data["to_status"] == "transferred"
    ]
    assert [(m["from_department"], m["department"], m["reason"]) for m in moves] == [
        ("security", "cleaning", "valid complaint: cleaning is responsible")
    ]
    # The same department again changes nothing; communicative after all cancels the work.
    before = len(await outbox_events(runtime))
    assert await apply(runtime, classified(runtime, "req-c", "valid", "cleaning", 3)) == "handled"
    assert len(await outbox_events(runtime)) == before
    assert await apply(runtime, classified(runtime, "req-c", "help_seeking", None, 4)) == "handled"
    [order] = await work_orders(runtime)
    assert order.status == "cancelled"


async def test_a_complaint_recorded_as_communicative_opens_no_work_order(dispatch) -> None:
    runtime, _ = dispatch
    for n, complaint_class in enumerate(("inquiry", "venting", "help_seeking")):
        request_id = f"req-{complaint_class}"
        await apply(
            runtime,
            request_created(
                runtime,
                f"evt-{n}",
                request_id=request_id,
                kind="complaint",
                complaint_class=complaint_class,
                in_unit=False,
            ),
        )
        await apply(runtime, classified(runtime, request_id, complaint_class, None))
    # The owner was not satisfied at the follow-up: intake reopens it, still no work order (the service center
    # answers it again, or classifies it valid).
    data = {
        **json.loads((REPO_ROOT / "contracts" / "examples" / "intake.request.reopened.v1.json").read_text()),
        "request_id": "req-venting",
        "kind": "complaint",
        "work_order_id": None,
        "followup_id": "fu-1",
    }
    reopened = runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": "evt-reopened",
            "source": "pm/intake",
            "type": "intake.request.reopened.v1",
            "subject": "req-venting",
            "time": datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json",
            "dataschema": "urn:pm:contracts:intake.request.reopened.v1",
            "site": "harbour",
            "correlationid": "req-venting",
            "data": data,
        }
    )
    assert await apply(runtime, reopened) == "handled"
    assert await work_orders(runtime) == []
    assert await outbox_events(runtime) == []
