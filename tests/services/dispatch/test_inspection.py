"""dispatch.inspection: intake's decoration inspections become engineering work orders with their checklist,
worked through the usual actions and completed with every item's outcome (on SQLite and PostgreSQL, intake's
events applied through dispatch's inbox)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dispatch.inspection.models import Inspection, InspectionResult
from dispatch.inspection.service import check_answers
from dispatch.main import subscriptions
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.errors import Invalid
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT
from tests.services.dispatch.helpers import CONSUMER, act, supervisor, worker
from tests.services.support import outbox_events

REQUESTED = "intake.decoration.inspection_requested.v1"
INSPECTED = "dispatch.inspection.completed.v1"


def inspection_requested(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    """An intake.decoration.inspection_requested.v1 envelope around the contract's example, as intake sends it."""
    data = {**json.loads((REPO_ROOT / "contracts" / "examples" / f"{REQUESTED}.json").read_text()), **changes}
    return runtime.catalog.parse(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "pm/intake",
            "type": REQUESTED,
            "subject": data["inspection_id"],
            "time": "2026-12-08T02:00:01+00:00",
            "datacontenttype": "application/json",
            "dataschema": f"urn:pm:contracts:{REQUESTED}",
            "site": data["site"],
            "correlationid": data["permit_id"],
            "data": data,
        }
    )


async def request(runtime: Runtime, event_id: str = "evt-inspect-1", **changes: Any) -> str:
    return await apply_event(
        runtime, CONSUMER, subscriptions.handlers, inspection_requested(runtime, event_id, **changes)
    )


async def the_order(client: Any, runtime: Runtime) -> dict[str, Any]:
    listing = (await client.get("/work-orders", params={"request_id": "di-19c2"}, headers=supervisor(runtime))).json()
    [order] = listing["items"]
    return order


ANSWERS = {
    "items": [
        {"code": "load_bearing_walls", "ok": True},
        {"code": "wet_areas", "ok": False, "note": "No water test before tiling"},
    ],
    "note": "Stop order issued for the bathroom",
    "photos": ["decoration/harbour/photo/2026/12/abc.jpg"],
}


async def test_an_inspection_request_opens_one_engineering_work_order_due_when_asked(dispatch) -> None:
    runtime, client = dispatch
    assert await request(runtime) == "handled"
    assert await request(runtime) == "duplicate"
    assert await request(runtime, "evt-inspect-again") == "handled"  # the same inspection again: nothing new

    order = await the_order(client, runtime)
    assert (order["department"], order["category"], order["kind"]) == (
        "engineering",
        "decoration_inspection",
        "inspection",
    )
    assert (order["unit_id"], order["in_unit"], order["status"]) == ("harbour-A-0101", True, "created")
    assert order["due_at"] == order["completion_due_at"] == "2026-12-10T08:00:00Z"
    assert "Load-bearing walls untouched" in order["description"]
    inspection = (await client.get(f"/work-orders/{order['id']}/inspection", headers=supervisor(runtime))).json()
    assert [item["code"] for item in inspection["checklist"]] == ["load_bearing_walls", "wet_areas"]
    assert (inspection["permit_id"], inspection["kind"], inspection["result"]) == ("dp-7f3a", "routine", None)

    [(subject, created)] = [
        (s, e) for s, e in await outbox_events(runtime) if e.type == "dispatch.workorder.created.v1"
    ]
    assert subject == "dispatch.workorder.created.v1.harbour.engineering"
    assert (created.data["inspection_id"], created.data["request_id"]) == ("di-19c2", "di-19c2")
    assert created.causationid == "evt-inspect-1" and created.correlationid == "dp-7f3a"


async def test_a_worker_works_the_inspection_and_completes_it_with_the_checklist(dispatch) -> None:
    runtime, client = dispatch
    await request(runtime)
    order = await the_order(client, runtime)
    eng = worker(runtime, "eng-01")
    assert (await act(client, order, "claim", eng)).status_code == 200
    actions = (await client.get(f"/work-orders/{order['id']}/actions", headers=eng)).json()["actions"]
    assert "inspection-result" in actions and "complete" not in actions
    assert (await act(client, order, "arrive", eng)).status_code == 200

    plain = await act(client, order, "complete", eng, {"result": "done"})
    assert plain.status_code == 409 and plain.headers["content-type"] == PROBLEM_JSON
    before = len(await outbox_events(runtime))

    missing = await act(client, order, "inspection-result", eng, {"items": ANSWERS["items"][:1]})
    assert missing.status_code == 422 and missing.json()["field"] == "items"
    assert "wet_areas" in missing.json()["detail"]
    unknown = await act(
        client, order, "inspection-result", eng, {"items": [*ANSWERS["items"], {"code": "facade", "ok": True}]}
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "items.2.code"
    not_bool = await act(client, order, "inspection-result", eng, {"items": [{"code": "wet_areas", "ok": "yes"}]})
    assert not_bool.status_code == 422
    assert len(await outbox_events(runtime)) == before  # nothing changed

    done = await act(client, order, "inspection-result", eng, ANSWERS)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["result"].startswith("inspection violation")
    events = (await outbox_events(runtime))[before:]
    assert [e.type for _, e in events] == [
        "dispatch.workorder.status_changed.v1",
        "dispatch.workorder.completed.v1",
        INSPECTED,
    ]
    assert all(e.data["inspection_id"] == "di-19c2" for _, e in events)
    subject, inspected = events[-1]
    assert subject == "dispatch.inspection.completed.v1.harbour"
    assert (inspected.data["result"], inspected.data["permit_id"], inspected.data["work_order_id"]) == (
        "violation",
        "dp-7f3a",
        order["id"],
    )
    assert [i["ok"] for i in inspected.data["items"]] == [True, False]
    assert inspected.data["photos"] == ANSWERS["photos"] and inspected.data["inspector"] == "eng-01"
    assert inspected.correlationid == "dp-7f3a"

    again = await act(client, order, "inspection-result", eng, ANSWERS)
    assert again.status_code == 409
    assert len(await outbox_events(runtime)) == before + 3
    stored = (await client.get(f"/work-orders/{order['id']}/inspection", headers=supervisor(runtime))).json()
    assert (stored["result"], stored["inspector"]) == ("violation", "eng-01")


async def test_a_passed_inspection_and_who_may_record_it(dispatch) -> None:
    runtime, client = dispatch
    await request(runtime, kind="completion")
    order = await the_order(client, runtime)
    passed = {"items": [{"code": "load_bearing_walls", "ok": True}, {"code": "wet_areas", "ok": True}]}
    cleaner = worker(runtime, "clean-01", department="cleaning")
    assert (await act(client, order, "inspection-result", cleaner, passed)).status_code == 403
    agent = {"Authorization": supervisor(runtime)["Authorization"]}
    done = await act(client, order, "inspection-result", agent, passed)
    assert done.status_code == 200, done.text
    [inspected] = [e for _, e in await outbox_events(runtime) if e.type == INSPECTED]
    assert inspected.data["result"] == "passed" and inspected.data["note"] is None


async def test_a_plain_work_order_has_no_inspection(dispatch) -> None:
    from tests.services.dispatch.helpers import new_order

    runtime, client = dispatch
    order = await new_order(runtime, client, "req-plain")
    answer = await client.get(f"/work-orders/{order['id']}/inspection", headers=supervisor(runtime))
    assert answer.status_code == 404
    result = await act(client, order, "inspection-result", supervisor(runtime), ANSWERS)
    assert result.status_code == 404
    [(_, created)] = [(s, e) for s, e in await outbox_events(runtime) if e.type == "dispatch.workorder.created.v1"]
    assert created.data["inspection_id"] is None


@pytest.mark.unit
def test_unit_every_checklist_item_is_answered_once() -> None:
    inspection = Inspection(checklist=[{"code": "a", "label": "A"}, {"code": "b", "label": "B"}])
    check_answers(
        inspection, InspectionResult.model_validate({"items": [{"code": "b", "ok": False}, {"code": "a", "ok": True}]})
    )
    for items, field in [
        ([{"code": "a", "ok": True}], "items"),
        ([{"code": "a", "ok": True}, {"code": "a", "ok": True}], "items.1.code"),
        ([{"code": "a", "ok": True}, {"code": "c", "ok": True}], "items.1.code"),
    ]:
        with pytest.raises(Invalid) as raised:
            check_answers(inspection, InspectionResult.model_validate({"items": items}))
        assert raised.value.field == field
