"""Dispatch: requests become routed work orders; departments report the work (SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dispatch.database import Base, platform_tables
from dispatch.department.service import RoutingError
from dispatch.main import create
from dispatch.seed import seed
from dispatch.workorder.handlers import subscriptions
from dispatch.workorder.models import WorkOrder
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

CONSUMER = "dispatch-from-intake"
CREATED = "intake.request.created.v1"
REQUEST_TIME = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
REPORT = {"result": "Replaced the tap cartridge", "parts": ["tap cartridge"], "minutes_spent": 35,
          "charge": {"item": "Tap cartridge replacement", "amount_cents": 8000}}


@pytest.fixture
async def dispatch(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="dispatch", var_dir=tmp_path, database_url=database_urls["dispatch"])
    await asyncio.to_thread(migrations.upgrade, "dispatch", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    await seed(runtime)
    await seed(runtime)  # idempotent
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def request_created(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    """An intake.request.created.v1 envelope around the contract's example, with ``changes`` to its data."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{CREATED}.json").read_text()), **changes}
    return runtime.catalog.parse({
        "specversion": "1.0", "id": event_id, "source": "pm/intake", "type": CREATED,
        "subject": data["request_id"], "time": "2026-11-23T08:30:01+00:00", "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{CREATED}", "site": data["site"], "correlationid": data["request_id"],
        "data": data,
    })


def auth(runtime: Runtime, roles=("agent",), sites=("harbour",), department: str | None = None,
         subject: str = "staff.1") -> dict[str, str]:
    token = mint_token(runtime.settings, subject, list(roles), list(sites), department)
    return {"Authorization": "Bearer " + token}


def engineer(runtime: Runtime, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("worker",), sites=(site,), department="engineering", subject="eng-01")


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, CONSUMER, subscriptions.handlers, event)


async def outbox_events(runtime: Runtime) -> list[tuple[str, Envelope]]:
    """(subject, parsed envelope) of every outbox row, in commit order; each must satisfy its contract."""
    outbox = runtime.tables.outbox
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.id))).mappings().all()
    return [(row["subject"], runtime.catalog.parse(json.loads(row["payload"]))) for row in rows]


async def work_orders(runtime: Runtime) -> list[WorkOrder]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(WorkOrder).order_by(WorkOrder.created_at))).all())


async def inbox_count(runtime: Runtime) -> int:
    async with runtime.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(runtime.tables.inbox)) or 0


async def open_order(runtime: Runtime, client: httpx.AsyncClient, event_id: str = "evt-1",
                     **changes: Any) -> dict[str, Any]:
    await apply(runtime, request_created(runtime, event_id, **changes))
    request_id = changes.get("request_id", "req-0001")
    listing = (await client.get("/work-orders", headers=auth(runtime, roles=("supervisor",)))).json()
    return next(item for item in listing["items"] if item["request_id"] == request_id)


@pytest.mark.parametrize(
    ("category", "department"),
    [("water", "engineering"), ("lift", "lift"), ("noise", "security"), ("greening", "greening"),
     ("satellite_dish", "engineering")],  # no rule: the site's default department
)
async def test_a_request_becomes_a_work_order_routed_by_its_category(dispatch, category, department) -> None:
    runtime, _ = dispatch
    event = request_created(runtime, "evt-1", category=category)
    assert await apply(runtime, event) == "handled"

    [order] = await work_orders(runtime)
    assert (order.request_id, order.site, order.department, order.category) == ("req-0001", "harbour", department,
                                                                                 category)
    assert (order.status, order.unit_id, order.in_unit, order.kind) == ("created", "harbour-A-0101", True, "repair")
    [(subject, emitted)] = await outbox_events(runtime)
    assert subject == f"dispatch.workorder.created.v1.harbour.{department}"
    assert subject.rsplit(".", 1)[1] == department
    assert emitted.type == "dispatch.workorder.created.v1"
    assert (emitted.department, emitted.correlationid, emitted.causationid) == (department, "req-0001", event.id)
    assert emitted.data["work_order_id"] == order.id
    assert emitted.data["department"] == department
    assert emitted.data["appointment"] == {"start": "2026-11-23T10:00:00+00:00", "end": "2026-11-23T12:00:00+00:00"}
    assert datetime.fromisoformat(emitted.data["due_at"]) == REQUEST_TIME + timedelta(hours=24)


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
    ("kind", "priority", "due"),
    [("emergency", "normal", timedelta(minutes=30)), ("repair", "urgent", timedelta(minutes=30)),
     ("complaint", "high", timedelta(hours=24))],
)
async def test_the_due_time_follows_kind_and_priority(dispatch, kind, priority, due) -> None:
    runtime, _ = dispatch
    # Any time zone in, UTC out.
    await apply(runtime, request_created(runtime, "evt-1", kind=kind, priority=priority,
                                         created_at="2026-11-23T16:30:00+08:00"))
    [(_, emitted)] = await outbox_events(runtime)
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
    await apply(runtime, request_created(runtime, "evt-2", request_id="req-0002", category="lift",
                                         unit_id=None, in_unit=False, location="Block A lift 2"))

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
    assert datetime.fromisoformat(detail.json()["due_at"]) == REQUEST_TIME + timedelta(hours=24)

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
        "dispatch.workorder.completed.v1.harbour.engineering",
    ]
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
    response = await client.post(f"/work-orders/{order['id']}/complete", json={"result": "Tightened the tap"},
                                 headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json()["charge"] is None and response.json()["parts"] == []
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
    assert len(await outbox_events(runtime)) == 1  # only the creation
    [stored] = await work_orders(runtime)
    assert stored.status == "created" and stored.result is None


@pytest.mark.parametrize(
    ("report", "field"),
    [({"parts": []}, "result"),
     ({"result": "ok", "charge": {"item": "x", "amount_cents": -1}}, "charge.amount_cents"),
     ({"result": "ok", "charge": {"item": "x", "amount_cents": 80.5}}, "charge.amount_cents"),
     ({"result": "ok", "charge": {"item": "x", "amount_cents": 100, "currency": "yuan"}}, "charge.currency"),
     ({"result": "ok", "minutes_spent": -5}, "minutes_spent")],
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


async def test_departments_and_their_routing_per_site(dispatch) -> None:
    runtime, client = dispatch
    response = await client.get("/departments", params={"site": "harbour"}, headers=auth(runtime))
    assert response.status_code == 200
    departments = {d["code"]: d for d in response.json()}
    assert set(departments) == {"engineering", "cleaning", "greening", "security", "lift"}
    assert all(d["site"] == "harbour" for d in departments.values())
    assert departments["engineering"]["default"] is True and departments["lift"]["default"] is False
    assert "water" in departments["engineering"]["categories"]
    assert departments["security"]["categories"] == ["noise", "parking", "security"]
    assert departments["lift"]["name"] == "Lift"

    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    everywhere = (await client.get("/departments", headers=head_office)).json()
    assert {d["site"] for d in everywhere} == {"harbour", "riverside", "lakeside"}
    assert len(everywhere) == 15
    mine = (await client.get("/departments", headers=auth(runtime))).json()
    assert {d["site"] for d in mine} == {"harbour"}
    assert (await client.get("/departments", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403
    assert (await client.get("/departments")).status_code == 401
