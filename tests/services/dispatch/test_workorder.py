"""dispatch.workorder: requests become routed work orders; the working states, illegal transitions, charges,
scope, time limits and pauses, rework, cancellation and complaints (on SQLite and PostgreSQL, no NATS).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dispatch.database import Base, platform_tables
from dispatch.department.service import RoutingError
from dispatch.main import create
from dispatch.workorder.handlers import subscriptions, timers
from dispatch.workorder.models import (
    TERMINAL,
    TRANSITIONS,
    Limit,
    Stage,
    Status,
    WorkOrder,
    can_transition,
    raised,
    timer_kind,
)
from dispatch.workorder.timelimits import _stage_open, warning_time
from pm_platform.cli import describe_workorder_event
from pm_platform.envelope import Envelope
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT
from pm_platform.timers import fire_due
from tests.services.dispatch.helpers import (
    ALWAYS,
    act,
    apply,
    auth,
    new_order,
    now_iso,
    open_order,
    put_staff,
    request_created,
    supervisor,
    worker,
)
from tests.services.support import outbox_events

# --- requests become work orders, the basic states ------------------------------------------------


REOPENED = "intake.request.reopened.v1"
REQUEST_TIME = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
APPOINTMENT_END = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
REPORT = {
    "result": "Replaced the tap cartridge",
    "parts": ["tap cartridge"],
    "minutes_spent": 35,
    "charge": {"item": "Tap cartridge replacement", "amount_cents": 8000},
}


def engineer(runtime: Runtime, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("worker",), sites=(site,), department="engineering", subject="eng-01")


async def work_orders(runtime: Runtime) -> list[WorkOrder]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(WorkOrder).order_by(WorkOrder.created_at))).all())


async def inbox_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(runtime.tables.inbox)) or 0


@pytest.mark.parametrize(
    ("category", "department"),
    [
        ("water", "engineering"),
        ("lift", "lift"),
        ("noise", "security"),
        ("greening", "greening"),
        ("satellite_dish", "engineering"),
    ],  # no rule: the site's default department
)
async def test_a_request_becomes_a_work_order_routed_by_its_category(dispatch, category, department) -> None:
    runtime, _ = dispatch
    event = request_created(runtime, "evt-1", category=category)
    assert await apply(runtime, event) == "handled"

    [order] = await work_orders(runtime)
    assert (order.request_id, order.site, order.department, order.category) == (
        "req-0001",
        "harbour",
        department,
        category,
    )
    assert (order.unit_id, order.in_unit, order.kind) == ("harbour-A-0101", True, "repair")
    # The department's policy may assign it at once (to staff on duty): then a status change follows.
    assert order.status in ("created", "assigned")
    (subject, emitted), *assigned = await outbox_events(runtime)
    assert [e.data["to_status"] for _, e in assigned] == (["assigned"] if order.status == "assigned" else [])
    assert subject == f"dispatch.workorder.created.v1.harbour.{department}"
    assert subject.rsplit(".", 1)[1] == department
    assert emitted.type == "dispatch.workorder.created.v1"
    assert (emitted.department, emitted.correlationid, emitted.causationid) == (department, "req-0001", event.id)
    assert emitted.data["work_order_id"] == order.id
    assert emitted.data["department"] == department
    assert emitted.data["appointment"] == {"start": "2026-11-23T10:00:00+00:00", "end": "2026-11-23T12:00:00+00:00"}
    # A normal repair with a booked appointment: arrive by the end of the slot; sign for it within 2 hours.
    assert datetime.fromisoformat(emitted.data["due_at"]) == APPOINTMENT_END
    assert datetime.fromisoformat(emitted.data["acceptance_due_at"]) == REQUEST_TIME + timedelta(hours=2)
    assert datetime.fromisoformat(emitted.data["completion_due_at"]) == REQUEST_TIME + timedelta(days=3)
    assert emitted.data["rework"] is False


async def test_a_department_chosen_at_intake_overrides_routing(dispatch) -> None:
    runtime, _ = dispatch
    await apply(runtime, request_created(runtime, "evt-1", category="water", department="cleaning"))
    await apply(
        runtime, request_created(runtime, "evt-2", request_id="req-2", category="water", department="plumbing")
    )  # not a department here: routing decides
    assert {o.request_id: o.department for o in await work_orders(runtime)} == {
        "req-0001": "cleaning",
        "req-2": "engineering",
    }


async def test_the_same_event_twice_opens_one_work_order(dispatch) -> None:
    runtime, _ = dispatch
    event = request_created(runtime, "evt-1")
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"
    assert len(await work_orders(runtime)) == 1
    assert len(await outbox_events(runtime)) == 1
    assert await inbox_count(runtime) == 1


@pytest.mark.parametrize("kind", ["inquiry", "praise", "suggestion"])
async def test_kinds_that_need_no_work_are_received_and_open_nothing(dispatch, kind) -> None:
    runtime, _ = dispatch
    event = request_created(runtime, "evt-1", kind=kind, in_unit=False, category="general")
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"
    assert await work_orders(runtime) == []
    assert await outbox_events(runtime) == []
    assert await inbox_count(runtime) == 1


@pytest.mark.parametrize(
    ("kind", "priority", "category", "appointment", "due"),
    [
        ("emergency", "normal", "water", True, timedelta(minutes=30)),  # emergencies ignore the appointment
        ("repair", "urgent", "water", True, timedelta(minutes=30)),
        ("emergency", "urgent", "lift", False, timedelta(minutes=10)),  # people trapped in a lift
        ("repair", "normal", "lift_trapped", False, timedelta(minutes=10)),
        ("repair", "high", "noise", False, timedelta(hours=24)),  # (complaints open work on classification)
        ("repair", "normal", "water", False, timedelta(hours=24)),
    ],
)
async def test_the_arrival_limit_follows_kind_category_and_priority(
    dispatch, kind, priority, category, appointment, due
) -> None:
    runtime, _ = dispatch
    # Any time zone in, UTC out.
    await apply(
        runtime,
        request_created(
            runtime,
            "evt-1",
            kind=kind,
            priority=priority,
            category=category,
            created_at="2026-11-23T16:30:00+08:00",
            **({} if appointment else {"appointment": None}),
        ),
    )
    (_, emitted), *_ = await outbox_events(runtime)
    assert datetime.fromisoformat(emitted.data["due_at"]) == REQUEST_TIME + due


async def test_a_site_without_routing_fails_and_writes_nothing(dispatch) -> None:
    runtime, _ = dispatch
    with pytest.raises(RoutingError):
        await apply(runtime, request_created(runtime, "evt-1", site="nowhere", unit_id=None, location="Gate"))
    assert await work_orders(runtime) == []
    assert await outbox_events(runtime) == []
    assert await inbox_count(runtime) == 0  # not recorded: a retry (or a replay) can still apply it


async def test_a_worker_reads_accepts_and_completes_with_a_charge(dispatch) -> None:
    runtime, client = dispatch
    order = await open_order(runtime, client)
    await apply(
        runtime,
        request_created(
            runtime,
            "evt-2",
            request_id="req-0002",
            category="lift",
            unit_id=None,
            in_unit=False,
            location="Block A lift 2",
        ),
    )

    listing = (await client.get("/work-orders", params={"site": "harbour"}, headers=engineer(runtime))).json()
    assert [item["id"] for item in listing["items"]] == [order["id"]]  # only engineering's work
    assert listing["total"] == 1
    everything = (await client.get("/work-orders", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert everything["total"] == 2
    lift = await client.get("/work-orders", params={"department": "lift"}, headers=auth(runtime))
    assert [item["request_id"] for item in lift.json()["items"]] == ["req-0002"]

    detail = await client.get(f"/work-orders/{order['id']}", headers=engineer(runtime))
    assert detail.status_code == 200
    assert detail.json()["department"] == "engineering" and detail.json()["charge"] is None
    assert datetime.fromisoformat(detail.json()["due_at"]) == APPOINTMENT_END

    accepted = await client.post(f"/work-orders/{order['id']}/accept", headers=engineer(runtime))
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.json()["worker"]) == ("accepted", "eng-01")

    completed = await client.post(f"/work-orders/{order['id']}/complete", json=REPORT, headers=engineer(runtime))
    assert completed.status_code == 200, completed.text
    body = completed.json()
    assert body["status"] == "completed"
    assert body["charge"] == {"item": "Tap cartridge replacement", "amount_cents": 8000, "currency": "CNY"}
    assert (body["parts"], body["minutes_spent"], body["result"]) == (["tap cartridge"], 35, REPORT["result"])

    events = await outbox_events(runtime)
    assert [subject for subject, _ in events] == [
        "dispatch.workorder.created.v1.harbour.engineering",
        "dispatch.workorder.created.v1.harbour.lift",
        "dispatch.workorder.status_changed.v1.harbour.lift",  # lift: least loaded of the staff on duty
        "dispatch.workorder.status_changed.v1.harbour.engineering",  # created -> accepted
        "dispatch.workorder.status_changed.v1.harbour.engineering",  # accepted -> completed
        "dispatch.workorder.completed.v1.harbour.engineering",
    ]
    assert [(e.data["from_status"], e.data["to_status"]) for _, e in events[3:5]] == [
        ("created", "accepted"),
        ("accepted", "completed"),
    ]
    assert events[2][1].data["assignee"] in ("lift.harbour", "lift2.harbour")
    done = events[-1][1]
    assert (done.department, done.correlationid, done.subject) == ("engineering", "req-0001", order["id"])
    assert done.data["charge"] == {"item": "Tap cartridge replacement", "amount_cents": 8000, "currency": "CNY"}
    assert (done.data["in_unit"], done.data["unit_id"], done.data["worker"]) == (True, "harbour-A-0101", "eng-01")

    completed_list = await client.get("/work-orders", params={"status": "completed"}, headers=engineer(runtime))
    assert completed_list.json()["total"] == 1


async def test_completing_straight_from_created_without_a_charge(dispatch) -> None:
    runtime, client = dispatch
    order = await open_order(runtime, client)
    supervisor = auth(runtime, roles=("supervisor",))
    response = await client.post(
        f"/work-orders/{order['id']}/complete", json={"result": "Tightened the tap"}, headers=supervisor
    )
    assert response.status_code == 200, response.text
    assert response.json()["charge"] is None and response.json()["parts"] == []
    assert response.json()["worker"] == "staff.1"
    _, done = (await outbox_events(runtime))[-1]
    assert done.data["charge"] is None and done.data["minutes_spent"] is None


async def test_an_illegal_transition_answers_409_and_changes_nothing(dispatch) -> None:
    runtime, client = dispatch
    order = await open_order(runtime, client)
    url = f"/work-orders/{order['id']}"
    assert (await client.post(f"{url}/complete", json=REPORT, headers=engineer(runtime))).status_code == 200
    before = await outbox_events(runtime)

    again = await client.post(f"{url}/complete", json={"result": "again"}, headers=engineer(runtime))
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_JSON
    assert again.json()["current_status"] == "completed"
    accept = await client.post(f"{url}/accept", headers=engineer(runtime))
    assert accept.status_code == 409

    assert len(await outbox_events(runtime)) == len(before)
    after = (await client.get(url, headers=engineer(runtime))).json()
    assert after["result"] == REPORT["result"] and after["status"] == "completed"


async def test_a_charge_on_a_common_area_order_is_refused(dispatch) -> None:
    runtime, client = dispatch
    order = await open_order(runtime, client, unit_id=None, in_unit=False, location="Block A lobby")
    response = await client.post(f"/work-orders/{order['id']}/complete", json=REPORT, headers=engineer(runtime))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == "charge"
    assert len(await outbox_events(runtime)) == 1  # only the creation (engineering takes work from a pool)
    [stored] = await work_orders(runtime)
    assert stored.status == "created" and stored.result is None


@pytest.mark.parametrize(
    ("report", "field"),
    [
        ({"parts": []}, "result"),
        ({"result": "ok", "charge": {"item": "x", "amount_cents": -1}}, "charge.amount_cents"),
        ({"result": "ok", "charge": {"item": "x", "amount_cents": 80.5}}, "charge.amount_cents"),
        ({"result": "ok", "charge": {"item": "x", "amount_cents": 100, "currency": "yuan"}}, "charge.currency"),
        ({"result": "ok", "minutes_spent": -5}, "minutes_spent"),
    ],
)
async def test_a_bad_report_answers_422_naming_the_field(dispatch, report, field) -> None:
    runtime, client = dispatch
    order = await open_order(runtime, client)
    response = await client.post(f"/work-orders/{order['id']}/complete", json=report, headers=engineer(runtime))
    assert response.status_code == 422
    assert response.json()["field"] == field


async def test_department_site_and_role_scope(dispatch) -> None:
    runtime, client = dispatch
    order = await open_order(runtime, client)
    url = f"/work-orders/{order['id']}"
    cleaner = auth(runtime, roles=("worker",), department="cleaning", subject="clean-01")
    for response in (
        await client.get(url, headers=cleaner),
        await client.post(f"{url}/accept", headers=cleaner),
        await client.post(f"{url}/complete", json={"result": "done"}, headers=cleaner),
        await client.get("/work-orders", params={"department": "engineering"}, headers=cleaner),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM_JSON
    assert (await client.get("/work-orders", headers=cleaner)).json()["total"] == 0
    no_department = auth(runtime, roles=("worker",))
    assert (await client.get("/work-orders", headers=no_department)).status_code == 403

    riverside = engineer(runtime, site="riverside")
    assert (await client.get(url, headers=riverside)).status_code == 403
    assert (await client.post(f"{url}/complete", json={"result": "done"}, headers=riverside)).status_code == 403
    assert (await client.get("/work-orders", params={"site": "harbour"}, headers=riverside)).status_code == 403
    assert (await client.get("/work-orders", headers=riverside)).json()["total"] == 0

    # An agent reads but does not act for a department; no token is 401.
    assert (await client.get(url, headers=auth(runtime))).status_code == 200
    assert (await client.post(f"{url}/accept", headers=auth(runtime))).status_code == 403
    anonymous = await client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM_JSON
    assert (await client.post(f"{url}/complete", json={"result": "done"})).status_code == 401
    assert (await client.get("/work-orders/nope", headers=auth(runtime))).status_code == 404

    [stored] = await work_orders(runtime)
    assert stored.status == "created"
    assert len(await outbox_events(runtime)) == 1


# --- the full capability: states, policies, time limits, scope, rework, report ----------------------------


async def status_changes(runtime: Runtime, order_id: str) -> list[tuple[str, str]]:
    return [
        (e.data["from_status"], e.data["to_status"])
        for _, e in await outbox_events(runtime)
        if e.type == "dispatch.workorder.status_changed.v1" and e.data["work_order_id"] == order_id
    ]


async def test_a_pool_order_through_every_working_state(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1")
    assert (order["status"], order["assignee"]) == ("created", None)  # engineering works from a pool
    eng = worker(runtime, "eng-01")

    pool = (await client.get("/work-orders/pool", headers=eng)).json()
    assert [o["id"] for o in pool["items"]] == [order["id"]]
    claimed = await act(client, order, "claim", eng)
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["assignee"]) == ("accepted", "eng-01")
    assert (await act(client, order, "claim", worker(runtime, "eng-02"))).status_code == 403  # it is eng-01's now
    assert (await client.get("/work-orders/pool", headers=eng)).json()["total"] == 0
    mine = (await client.get("/work-orders/mine", headers=eng)).json()
    assert [o["id"] for o in mine["items"]] == [order["id"]]

    assert (await act(client, order, "on-the-way", eng)).json()["status"] == "on_the_way"
    arrived = (await act(client, order, "arrive", eng)).json()
    assert arrived["status"] == "on_site" and arrived["arrived_at"] is not None
    paused = await act(client, order, "pause", eng, {"waiting_for": "parts", "reason": "Cartridge on order"})
    assert (paused.json()["status"], paused.json()["paused_from"], paused.json()["waiting_for"]) == (
        "paused",
        "on_site",
        "parts",
    )
    resumed = (await act(client, order, "resume", eng)).json()
    assert (resumed["status"], resumed["paused_from"]) == ("on_site", None)
    done = await act(
        client,
        order,
        "complete",
        eng,
        {"result": "Replaced", "parts": ["cartridge"], "minutes_spent": 20, "charge": {"code": "tap_cartridge"}},
    )
    assert done.status_code == 200, done.text
    assert done.json()["charge"] == {"item": "Tap cartridge replacement", "amount_cents": 8000, "currency": "CNY"}
    assert done.json()["charge_code"] == "tap_cartridge"
    assert (await client.get("/work-orders/mine", headers=eng)).json()["total"] == 0

    assert await status_changes(runtime, order["id"]) == [
        ("created", "accepted"),
        ("accepted", "on_the_way"),
        ("on_the_way", "on_site"),
        ("on_site", "paused"),
        ("paused", "on_site"),
        ("on_site", "completed"),
    ]
    history = (await client.get(f"/work-orders/{order['id']}/history", headers=eng)).json()
    assert [h["to_status"] for h in history] == ["accepted", "on_the_way", "on_site", "paused", "on_site", "completed"]
    assert history[3]["reason"] == "waiting for parts: Cartridge on order" and history[3]["actor"] == "eng-01"
    events = await outbox_events(runtime)
    for subject, event in events:
        assert subject.endswith(".harbour.engineering")
        assert event.correlationid == "req-1"
    completed = [e for _, e in events if e.type == "dispatch.workorder.completed.v1"]
    assert completed[0].data["charge_code"] == "tap_cartridge" and completed[0].data["rework"] is False
    # No time limit is left armed on a completed order.
    assert await fire_due(runtime, timers, now=datetime.now(UTC) + timedelta(days=30)) == 0


ILLEGAL = [
    # (steps to reach the state, the illegal action)
    ([], "on-the-way"),
    ([], "arrive"),
    ([], "resume"),
    ([], "pause"),
    (["claim"], "claim"),
    (["claim", "arrive"], "on-the-way"),
    (["claim", "arrive"], "accept"),
    (["claim", "pause"], "arrive"),
    (["claim", "pause"], "complete"),
    (["claim", "pause"], "pause"),
    (["complete"], "complete"),
    (["complete"], "accept"),
    (["complete"], "return"),
    (["complete"], "cancel"),
    (["complete"], "transfer"),
    (["cancel"], "accept"),
    (["cancel"], "resume"),
    (["return"], "accept"),
    (["return"], "complete"),
    (["return"], "return"),
    (["claim"], "reroute"),
]
BODIES: dict[str, dict[str, Any]] = {
    "complete": {"result": "done"},
    "return": {"reason": "Not ours"},
    "cancel": {"reason": "Duplicate"},
    "pause": {"waiting_for": "owner", "reason": "Owner away"},
    "transfer": {"department": "lift", "reason": "Lift"},
    "reroute": {"department": "lift", "reason": "Lift"},
}


@pytest.mark.parametrize(("steps", "action"), ILLEGAL, ids=[f"{'+'.join(s) or 'created'}-{a}" for s, a in ILLEGAL])
async def test_illegal_transitions_answer_409_and_change_nothing(dispatch, steps, action) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1")
    eng, sup = worker(runtime, "eng-01"), supervisor(runtime)
    for step in steps:
        response = await act(client, order, step, sup if step == "cancel" else eng, BODIES.get(step))
        assert response.status_code == 200, response.text
    before = (await client.get(f"/work-orders/{order['id']}", headers=sup)).json()
    events = len(await outbox_events(runtime))

    headers = sup if action in ("cancel", "reroute") else eng
    response = await act(client, order, action, headers, BODIES.get(action))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["current_status"] == before["status"]
    assert (await client.get(f"/work-orders/{order['id']}", headers=sup)).json() == before
    assert len(await outbox_events(runtime)) == events


async def test_return_reassign_transfer_reroute_and_cancel(dispatch) -> None:
    runtime, client = dispatch
    await put_staff(client, runtime, "engineering", "eng-01", ALWAYS)
    await put_staff(client, runtime, "engineering", "eng-02", ALWAYS)
    order = await new_order(runtime, client, "req-1")
    eng1, eng2, agent, sup = worker(runtime, "eng-01"), worker(runtime, "eng-02"), auth(runtime), supervisor(runtime)

    assigned = await act(client, order, "assign", agent, {"assignee": "eng-01"})
    assert (assigned.json()["status"], assigned.json()["assignee"]) == ("assigned", "eng-01")
    assert (await act(client, order, "accept", eng2)).json()["field"] == "assignee"  # someone else's order
    assert (await act(client, order, "accept", eng1)).status_code == 200
    returned = (await act(client, order, "return", eng1, {"reason": "Needs a plumber with a permit"})).json()
    assert (returned["status"], returned["assignee"], returned["returns"]) == ("returned", None, 1)
    assert returned["last_reason"] == "Needs a plumber with a permit"
    assert (await act(client, order, "assign", agent, {"assignee": "eng-02"})).json()["assignee"] == "eng-02"

    # eng-02 finds a lift problem: transfer to lift, whose policy assigns it to the least-loaded lift worker.
    moved = await act(client, order, "transfer", eng2, {"department": "lift", "reason": "Water from the lift pit"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["department"] == "lift" and moved.json()["status"] == "assigned"
    assert moved.json()["assignee"] in ("lift.harbour", "lift2.harbour")
    assert (await client.get(f"/work-orders/{order['id']}", headers=eng2)).status_code == 403  # not engineering's now
    events = [e for _, e in await outbox_events(runtime) if e.type == "dispatch.workorder.status_changed.v1"]
    transfer = next(e for e in events if e.data["to_status"] == "transferred")
    assert (transfer.department, transfer.data["from_department"], transfer.data["reason"]) == (
        "lift",
        "engineering",
        "Water from the lift pit",
    )

    # The service center overrides routing back to engineering, urgent; the limits are recomputed.
    rerouted = await act(
        client,
        order,
        "reroute",
        agent,
        {"department": "cleaning", "priority": "urgent", "reason": "Flooded corridor first"},
    )
    assert rerouted.status_code == 200, rerouted.text
    body = rerouted.json()
    assert (body["department"], body["priority"], body["limit_class"]) == ("cleaning", "urgent", "urgent")
    requested = datetime.fromisoformat(body["requested_at"])
    assert datetime.fromisoformat(body["due_at"]) == requested + timedelta(minutes=30)
    same = await act(client, order, "reroute", agent, {"department": "cleaning", "reason": "again"})
    assert same.status_code == 422 and same.json()["field"] == "department"
    assert (await act(client, order, "transfer", sup, {"department": "plumbing", "reason": "x"})).json()["field"] == (
        "department"
    )

    cancelled = await act(client, order, "cancel", agent, {"reason": "The owner fixed it"})
    assert cancelled.json()["status"] == "cancelled"
    changes = await status_changes(runtime, order["id"])
    assert changes[:5] == [
        ("created", "assigned"),
        ("assigned", "accepted"),
        ("accepted", "returned"),
        ("returned", "assigned"),
        ("assigned", "transferred"),
    ]
    assert changes[-1][1] == "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "department"),
        ({"department": "lift"}, "reason"),
        ({"department": "li ft", "reason": "x"}, "department"),
        ({"department": "lift", "reason": ""}, "reason"),
    ],
)
async def test_a_bad_transfer_answers_422_naming_the_field(dispatch, body, field) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1")
    response = await act(client, order, "transfer", worker(runtime, "eng-01"), body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("pause", {"waiting_for": "lunch", "reason": "x"}, "waiting_for"),
        ("assign", {}, "assignee"),
        ("assign", {"assignee": "nobody"}, "assignee"),
        ("reroute", {"reason": "x"}, "department"),
        ("reroute", {"priority": "critical", "reason": "x"}, "priority"),
        ("cancel", {}, "reason"),
        ("complete", {"result": "ok", "charge": {"code": "gold_tap"}}, "charge.code"),
        ("complete", {"result": "ok", "charge": {"item": "Gold tap", "amount_cents": 1}}, "charge.item"),
        (
            "complete",
            {"result": "ok", "charge": {"item": "Tap cartridge replacement", "amount_cents": 1}},
            "charge.amount_cents",
        ),
        ("complete", {"result": "ok", "charge": {"code": "tap_cartridge", "item": "Tap"}}, "charge"),
        ("complete", {"result": "ok", "charge": {"code": "tap_cartridge", "quantity": 0}}, "charge.quantity"),
    ],
)
async def test_bad_input_answers_422_naming_the_field(dispatch, action, body, field) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1")
    headers = supervisor(runtime)
    if action == "pause":
        assert (await act(client, order, "claim", worker(runtime, "eng-01"))).status_code == 200
        headers = worker(runtime, "eng-01")
    response = await act(client, order, action, headers, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["field"] == field
    assert len(await outbox_events(runtime)) == (2 if action == "pause" else 1)


async def test_time_limits_fire_after_a_restart_warn_breach_and_record_slips(dispatch) -> None:
    runtime, client = dispatch
    requested = datetime.now(UTC).replace(microsecond=0)
    # An emergency: sign for it within 10 minutes, be there within 30, done within 8 hours (warnings at 80 %).
    order = await new_order(runtime, client, "req-1", kind="emergency", created_at=requested.isoformat())
    calm = await new_order(runtime, client, "req-2", created_at=requested.isoformat())
    assert datetime.fromisoformat(order["acceptance_due_at"]) == requested + timedelta(minutes=10)
    assert datetime.fromisoformat(order["due_at"]) == requested + timedelta(minutes=30)

    # The service restarts: a fresh runtime over the same database fires what fell due meanwhile, once.
    await runtime.engine.dispose()
    restarted = Runtime(runtime.settings, Base.metadata, platform_tables, subscriptions)
    try:
        assert await fire_due(restarted, timers, now=requested + timedelta(minutes=7)) == 0
        assert await fire_due(restarted, timers, now=requested + timedelta(minutes=25)) == 3
        assert await fire_due(restarted, timers, now=requested + timedelta(minutes=25)) == 0
        limits = [
            (e.data["limit"], e.data["stage"])
            for _, e in await outbox_events(restarted)
            if e.type == "dispatch.workorder.timelimit.v1"
        ]
        assert limits == [("acceptance", "warning"), ("acceptance", "breach"), ("arrival", "warning")]
        [(subject, breach)] = [
            (s, e)
            for s, e in await outbox_events(restarted)
            if e.type == "dispatch.workorder.timelimit.v1" and e.data["stage"] == "breach"
        ]
        assert subject == "dispatch.workorder.timelimit.v1.harbour.engineering"
        assert breach.correlationid == "req-1" and breach.data["work_order_id"] == order["id"]
        assert datetime.fromisoformat(breach.data["due_at"]) == requested + timedelta(minutes=10)
        assert breach.data["slip_id"] and breach.data["status"] == "created"
    finally:
        await restarted.engine.dispose()

    app = create(restarted)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        eng = worker(restarted, "eng-01")
        escalated = await client.get("/work-orders", params={"escalated": "true"}, headers=supervisor(restarted))
        assert [o["id"] for o in escalated.json()["items"]] == [order["id"]]
        # Signing for it and arriving stop the remaining arrival limit; completion keeps running.
        assert (await act(client, order, "claim", eng)).status_code == 200
        assert (await act(client, order, "arrive", eng)).status_code == 200
        assert await fire_due(restarted, timers, now=requested + timedelta(minutes=31)) == 0
        slips = (await client.get("/nonconformance-slips", params={"site": "harbour"}, headers=eng)).json()
        assert [(s["limit"], s["department"], s["work_order_id"]) for s in slips["items"]] == [
            ("acceptance", "engineering", order["id"])
        ]
        assert (await client.get("/nonconformance-slips", headers=worker(restarted, "c", "cleaning"))).json()[
            "total"
        ] == 0
        # The calm order's limits (2 h to sign for it) fire later: warning, then breach.
        assert await fire_due(restarted, timers, now=requested + timedelta(minutes=121)) == 2
        assert (await act(client, calm, "cancel", supervisor(restarted), {"reason": "Duplicate"})).status_code == 200
        # Completion of the emergency: 8 hours; its warning and breach still fire while it is open.
        assert await fire_due(restarted, timers, now=requested + timedelta(hours=9)) == 2
        assert await fire_due(restarted, timers, now=requested + timedelta(days=30)) == 0
    await restarted.engine.dispose()


async def test_a_pause_stops_the_clock(dispatch) -> None:
    runtime, client = dispatch
    requested = datetime.now(UTC).replace(microsecond=0)
    order = await new_order(runtime, client, "req-1", kind="emergency", created_at=requested.isoformat())
    eng = worker(runtime, "eng-01")
    assert (await act(client, order, "claim", eng)).status_code == 200
    paused = await act(client, order, "pause", eng, {"waiting_for": "owner", "reason": "Nobody home"})
    assert paused.status_code == 200
    # While paused nothing fires, however late it gets.
    assert await fire_due(runtime, timers, now=requested + timedelta(hours=2)) == 0
    # Pretend the pause began an hour ago: resuming moves the deadlines on by that hour.
    async with runtime.sessionmaker() as session:
        stored = await session.get(WorkOrder, order["id"])
        assert stored is not None
        stored.paused_at = datetime.now(UTC) - timedelta(hours=1)
        await session.commit()
    resumed = (await act(client, order, "resume", eng)).json()
    shifted = datetime.fromisoformat(resumed["due_at"]) - (requested + timedelta(minutes=30))
    assert timedelta(minutes=59) < shifted < timedelta(minutes=61)
    # The arrival limit is now 90 minutes after the request; its warning at 80 % of the (moved) clock: 84.
    assert await fire_due(runtime, timers, now=requested + timedelta(minutes=83)) == 0
    assert await fire_due(runtime, timers, now=requested + timedelta(minutes=85)) == 1
    assert await fire_due(runtime, timers, now=requested + timedelta(minutes=91)) == 1
    warning, breach = [e for _, e in await outbox_events(runtime) if e.type == "dispatch.workorder.timelimit.v1"]
    assert (warning.data["limit"], warning.data["stage"]) == ("arrival", "warning")
    assert (breach.data["limit"], breach.data["stage"], breach.data["status"]) == ("arrival", "breach", "accepted")


async def test_scope_denials_across_sites_departments_and_roles(dispatch) -> None:
    runtime, client = dispatch
    await put_staff(client, runtime, "engineering", "eng-01", ALWAYS)
    order = await new_order(runtime, client, "req-1")
    cleaner = worker(runtime, "clean-01", "cleaning")
    riverside_eng = worker(runtime, "eng-01", site="riverside")
    riverside_sup = supervisor(runtime, site="riverside")
    actions = ["claim", "accept", "on-the-way", "arrive", "complete", "return", "transfer", "pause", "resume"]
    for headers in (cleaner, riverside_eng):
        for action in actions:
            response = await act(client, order, action, headers, BODIES.get(action))
            assert response.status_code == 403, (action, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
        assert (await client.get(f"/work-orders/{order['id']}/history", headers=headers)).status_code == 403
        assert (await client.get("/work-orders/pool", headers=headers)).json()["total"] == 0
    for action, body in (
        ("assign", {"assignee": "eng-01"}),
        ("cancel", {"reason": "x"}),
        ("reroute", {"priority": "urgent", "reason": "x"}),
    ):
        assert (await act(client, order, action, worker(runtime, "eng-01"), body)).status_code == 403  # role
        assert (await act(client, order, action, riverside_sup, body)).status_code == 403  # site
    assert (
        await client.get("/work-orders/pool", params={"department": "engineering"}, headers=cleaner)
    ).status_code == 403
    assert (await client.get("/work-orders/pool", params={"site": "harbour"}, headers=riverside_eng)).status_code == 403
    assert (await client.get("/reports/departments", headers=worker(runtime, "eng-01"))).status_code == 403
    assert (
        await client.get("/reports/departments", params={"site": "harbour"}, headers=riverside_sup)
    ).status_code == 403
    assert (
        await client.get("/departments/engineering/staff", params={"site": "harbour"}, headers=cleaner)
    ).status_code == 403
    assert (
        await client.put(
            "/departments/engineering/staff/x",
            params={"site": "harbour"},
            json={"name": "X"},
            headers=worker(runtime, "eng-01"),
        )
    ).status_code == 403
    assert (
        await client.patch(
            "/departments/engineering",
            params={"site": "harbour"},
            json={"assignment_policy": "manual"},
            headers=riverside_sup,
        )
    ).status_code == 403
    assert (
        await client.put(
            "/price-list/x",
            params={"site": "harbour"},
            json={"name": "X", "amount_cents": 1},
            headers=supervisor(runtime),
        )
    ).status_code == 403
    assert (await client.get("/work-orders/mine", headers=auth(runtime))).status_code == 403  # agents hold no work
    stored = (await client.get(f"/work-orders/{order['id']}", headers=supervisor(runtime))).json()
    assert (stored["status"], stored["assignee"]) == ("created", None)
    assert len(await outbox_events(runtime)) == 1


def request_reopened(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{REOPENED}.json").read_text()), **changes}
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/intake",
            "type": REOPENED,
            "subject": data["request_id"],
            "time": "2026-11-24T09:00:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{REOPENED}",
            "site": data["site"],
            "correlationid": data["request_id"],
            "data": data,
        }
    )


async def test_a_reopened_request_becomes_rework_for_the_same_department(dispatch) -> None:
    runtime, client = dispatch
    order = await new_order(runtime, client, "req-1", priority="normal")
    sup = supervisor(runtime)
    # Engineering sent it to the lift team, which completed it.
    assert (await act(client, order, "transfer", sup, {"department": "lift", "reason": "Lift pit"})).status_code == 200
    assert (await act(client, order, "complete", sup, {"result": "Sealed the pit"})).status_code == 200

    reopened = request_reopened(
        runtime,
        "evt-reopen",
        request_id="req-1",
        category="water",
        priority="normal",
        work_order_id=None,
        department=None,
        escalated=True,
        reopened_at=now_iso(),
    )
    assert await apply(runtime, reopened) == "handled"
    assert await apply(runtime, reopened) == "duplicate"
    rework = [o for o in await work_orders(runtime) if o.rework]
    assert len(rework) == 1
    [redo] = rework
    assert (redo.request_id, redo.original_work_order_id, redo.department) == ("req-1", order["id"], "lift")
    assert redo.priority == "high"  # escalated: one step up
    assert redo.description.startswith("Rework: Follow-up: tap still leaking")
    created = [
        e
        for _, e in await outbox_events(runtime)
        if e.type == "dispatch.workorder.created.v1" and e.data["work_order_id"] == redo.id
    ]
    assert created[0].data["rework"] is True and created[0].data["original_work_order_id"] == order["id"]
    assert created[0].causationid == "evt-reopen" and created[0].correlationid == "req-1"
    reworked = await client.get("/work-orders", params={"rework": "true"}, headers=sup)
    assert [o["id"] for o in reworked.json()["items"]] == [redo.id]

    # Not escalated, for a request dispatch never saw: routed by its category at the given priority.
    other = request_reopened(
        runtime,
        "evt-reopen-2",
        request_id="req-9",
        category="cleaning",
        priority="low",
        work_order_id=None,
        department=None,
        escalated=False,
        reopened_at=now_iso(),
    )
    assert await apply(runtime, other) == "handled"
    [fresh] = [o for o in await work_orders(runtime) if o.request_id == "req-9"]
    assert (fresh.department, fresh.priority, fresh.rework, fresh.original_work_order_id) == (
        "cleaning",
        "low",
        True,
        None,
    )
    # A reopened inquiry has no work to redo.
    inquiry = request_reopened(runtime, "evt-reopen-3", request_id="req-10", kind="inquiry", work_order_id=None)
    assert await apply(runtime, inquiry) == "handled"
    assert not [o for o in await work_orders(runtime) if o.request_id == "req-10"]


def test_pm_watch_prints_status_and_time_limit_events_readably() -> None:
    def envelope(event_type: str, example: str) -> dict[str, Any]:
        data = json.loads((REPO_ROOT / "contracts" / "examples" / example).read_text())
        return {
            "type": event_type,
            "time": "2026-11-23T08:05:00+00:00",
            "site": data["site"],
            "department": data["department"],
            "data": data,
        }

    changed = describe_workorder_event(
        envelope("dispatch.workorder.status_changed.v1", "dispatch.workorder.status_changed.v1.json")
    )
    assert changed == (
        "2026-11-23T08:05:00  harbour/engineering  wo-0001  assigned -> accepted, assignee eng-01, by eng-01"
    )
    moved = describe_workorder_event(
        envelope("dispatch.workorder.status_changed.v1", "dispatch.workorder.status_changed.v1.transfer.json")
    )
    assert "harbour/lift" in moved and "accepted -> transferred (from engineering)" in moved
    assert moved.endswith(": The leak comes from the lift machine room")
    breach = describe_workorder_event(
        envelope("dispatch.workorder.timelimit.v1", "dispatch.workorder.timelimit.v1.json")
    )
    assert "BREACH arrival limit due 2026-11-23T08:30, assignee eng-01, nonconformance slip ncs-0001" in breach
    created = describe_workorder_event(envelope("dispatch.workorder.created.v1", "dispatch.workorder.created.v1.json"))
    assert "created: water (normal) harbour-A-0101" in created
    done = describe_workorder_event(envelope("dispatch.workorder.completed.v1", "dispatch.workorder.completed.v1.json"))
    assert done.endswith("completed: Replaced the tap cartridge (charge 80.00 CNY)")


@pytest.mark.parametrize("leave", ["transfer", "return"])
async def test_leaving_a_pause_other_than_by_resuming_also_moves_the_clock_on(dispatch, leave) -> None:
    runtime, client = dispatch
    requested = datetime.now(UTC).replace(microsecond=0)
    order = await new_order(runtime, client, "req-1", created_at=requested.isoformat())
    eng = worker(runtime, "eng-01")
    assert (await act(client, order, "claim", eng)).status_code == 200
    assert (await act(client, order, "pause", eng, {"waiting_for": "parts", "reason": "Valve"})).status_code == 200
    async with runtime.sessionmaker() as session:
        stored = await session.get(WorkOrder, order["id"])
        assert stored is not None
        stored.paused_at = datetime.now(UTC) - timedelta(hours=2)
        await session.commit()
    left = await act(client, order, leave, eng, BODIES[leave])
    assert left.status_code == 200, left.text
    assert left.json()["paused_from"] is None and left.json()["assignee"] != "eng-01"
    shifted = datetime.fromisoformat(left.json()["due_at"]) - (requested + timedelta(hours=24))
    assert timedelta(minutes=119) < shifted < timedelta(minutes=121)


# --- cancelled requests, pool claims, complaints --------------------------------------------------


STATUS_CHANGED = "intake.request.status_changed.v1"


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


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.unit
def test_unit_the_work_order_state_machine() -> None:
    assert set(TRANSITIONS) == set(Status)
    for state in TERMINAL:
        assert not any(can_transition(state, target) for target in Status)
    # Accepting is optional: a department may report a quick job done straight away.
    assert can_transition(Status.created, Status.completed)
    assert can_transition(Status.assigned, Status.completed)
    # A paused order resumes to where it was (the service does that); only these leave a pause otherwise.
    assert {target for target in Status if can_transition(Status.paused, target)} == {
        Status.cancelled,
        Status.returned,
        Status.transferred,
    }
    assert not can_transition(Status.on_site, Status.on_the_way)
    assert not can_transition(Status.returned, Status.completed)  # the service center reassigns it first
    assert can_transition(Status.transferred, Status.transferred)


@pytest.mark.unit
def test_unit_rework_raises_the_priority_one_step_up_to_urgent() -> None:
    assert [raised(p) for p in ("low", "normal", "high", "urgent")] == ["normal", "high", "urgent", "urgent"]


@pytest.mark.unit
def test_unit_each_limit_and_stage_has_its_own_timer_kind() -> None:
    kinds = {timer_kind(limit, stage) for limit in Limit for stage in Stage}
    assert len(kinds) == len(Limit) * len(Stage)
    assert timer_kind(Limit.arrival, Stage.breach) == "workorder.arrival.breach"


@pytest.mark.unit
def test_unit_the_warning_falls_when_its_share_of_the_limit_has_elapsed() -> None:
    due = NOON + timedelta(hours=10)
    assert warning_time(NOON, due, 0.8, now=NOON) == NOON + timedelta(hours=8)
    assert warning_time(NOON, due, 0.5, now=NOON + timedelta(hours=4)) == NOON + timedelta(hours=5)
    # Too late to warn (a restart, a resumed pause): only the breach is left.
    assert warning_time(NOON, due, 0.5, now=NOON + timedelta(hours=5)) is None
    assert warning_time(NOON, due, 0.8, now=NOON + timedelta(hours=9)) is None
    assert warning_time(NOON, due, 1.0, now=NOON) is None  # not before the deadline
    assert warning_time(NOON, NOON, 0.8, now=NOON - timedelta(hours=1)) is None  # a limit already due


@pytest.mark.unit
def test_unit_a_limit_fires_only_while_the_stage_it_watches_is_open() -> None:
    def order(status: Status, arrived: bool = False) -> WorkOrder:
        return WorkOrder(status=status.value, arrived_at=NOON if arrived else None)

    assert _stage_open(order(Status.created), Limit.acceptance)
    assert _stage_open(order(Status.assigned), Limit.acceptance)
    assert not _stage_open(order(Status.accepted), Limit.acceptance)
    assert _stage_open(order(Status.on_the_way), Limit.arrival)
    assert not _stage_open(order(Status.on_site, arrived=True), Limit.arrival)
    assert _stage_open(order(Status.on_site, arrived=True), Limit.completion)
    # A pause stops every clock; a finished order has none left.
    for status in (Status.paused, Status.completed, Status.cancelled):
        assert not any(_stage_open(order(status), limit) for limit in Limit)
