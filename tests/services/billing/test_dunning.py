"""billing.dunning: the ladder takes each unit in arrears a step at a time as its days overdue grow, once per step,
holding for a valid complaint and for a manager before a formal letter to an extra-care household (on SQLite and
PostgreSQL, through billing's inbox for intake's events)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from billing.dunning.models import LadderStep
from billing.dunning.service import DAILY_RUN_TIMER, next_daily_run, next_step
from billing.main import timers
from pm_platform.runtime import Runtime
from pm_platform.timers import fire_due
from tests.services.billing.helpers import apply_intake, auth, events_of, intake_event, payment
from tests.services.support import outbox_events

COMPLAINT = "req-complaint-0102"


async def run(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    response = await client.post("/sites/harbour/dunning-runs", headers=auth(runtime))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def taken(result: dict[str, Any]) -> dict[str, str]:
    return {step["unit_id"]: step["action"] for step in result["steps"]}


async def test_the_ladder_takes_arrears_a_step_at_a_time_holding_for_complaints_and_care(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    issue_day(date(2026, 9, 28))
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)  # due 15 Oct

    issue_day(date(2026, 10, 16))
    first = await run(client, runtime)
    assert taken(first) == dict.fromkeys(
        ("harbour-A-0101", "harbour-A-0102", "harbour-A-1201", "harbour-B-0301"), "notice"
    )
    assert (await run(client, runtime))["steps"] == []  # the same day again: nothing twice
    notices = events_of(await outbox_events(runtime), "billing.dunning.step.v1")
    assert {(e.data["unit_id"], e.data["action"], e.data["days_overdue"]) for e in notices} == {
        (unit, "notice", 1) for unit in taken(first)
    }

    # A valid complaint of A-0102: dunning holds until it is resolved.
    classified = intake_event(
        runtime,
        "intake.request.classified.v1",
        "evt-classified",
        request_id=COMPLAINT,
        unit_id="harbour-A-0102",
        kind="complaint",
        complaint_class="valid",
        classified_at="2026-10-20T02:00:00+00:00",
    )
    assert await apply_intake(runtime, classified) == "handled"
    issue_day(date(2026, 10, 31))
    second = await run(client, runtime)
    assert taken(second) == dict.fromkeys(("harbour-A-0101", "harbour-A-1201", "harbour-B-0301"), "reminder")
    assert second["held"] == [{"unit_id": "harbour-A-0102", "reason": "complaint", "days_overdue": 16}]

    resolved = intake_event(
        runtime,
        "intake.request.status_changed.v1",
        "evt-resolved",
        request_id=COMPLAINT,
        unit_id="harbour-A-0102",
        kind="complaint",
        complaint_class="valid",
        from_status="in_progress",
        to_status="resolved",
        changed_at="2026-11-02T02:00:00+00:00",
    )
    assert await apply_intake(runtime, resolved) == "handled"
    issue_day(date(2026, 11, 15))
    third = await run(client, runtime)
    assert set(taken(third).values()) == {"call"} and len(third["steps"]) == 4  # A-0102 goes straight to the call

    # The agents' call list; a call made is logged with its outcome.
    calls = (
        await client.get(
            "/dunning-steps",
            params={"site": "harbour", "status": "open", "action": "call"},
            headers=auth(runtime, roles=("agent",)),
        )
    ).json()
    assert calls["total"] == 4
    call = next(s for s in calls["items"] if s["unit_id"] == "harbour-A-0101")
    vague = await client.post(
        f"/dunning-steps/{call['id']}/contacts", json={"channel": "call", "outcome": "promised"}, headers=clerk
    )
    assert vague.status_code == 409 and vague.json()["field"] == "promised_on"
    logged = await client.post(
        f"/dunning-steps/{call['id']}/contacts",
        json={"channel": "call", "outcome": "promised", "promised_on": "2026-11-20", "note": "pays on payday"},
        headers=clerk,
    )
    assert logged.status_code == 201, logged.text
    assert (logged.json()["status"], logged.json()["contacts"][0]["made_by"]) == ("done", "clerk.1")

    # 91 days: the formal letter; A-1201's household is extra-care: it waits for a manager.
    issue_day(date(2027, 1, 14))
    fourth = await run(client, runtime)
    assert set(taken(fourth).values()) == {"letter"}
    care = next(s for s in fourth["steps"] if s["unit_id"] == "harbour-A-1201")
    assert (care["status"], care["extra_care"]) == ("awaiting_approval", True)
    letters = [
        e for e in events_of(await outbox_events(runtime), "billing.dunning.step.v1") if e.data["action"] == "letter"
    ]
    assert "harbour-A-1201" not in {e.data["unit_id"] for e in letters} and len(letters) == 3
    assert (await client.post(f"/dunning-steps/{care['id']}/approve", headers=clerk)).status_code == 403
    approved = await client.post(f"/dunning-steps/{care['id']}/approve", headers=manager)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "manager.harbour"
    letters = [
        e for e in events_of(await outbox_events(runtime), "billing.dunning.step.v1") if e.data["action"] == "letter"
    ]
    assert "harbour-A-1201" in {e.data["unit_id"] for e in letters}


def test_the_daily_run_is_the_next_site_morning() -> None:
    shanghai = "Asia/Shanghai"  # 09:00 there is 01:00 UTC
    assert next_daily_run(datetime(2026, 10, 15, 17, 0, tzinfo=UTC), shanghai) == datetime(
        2026, 10, 16, 1, 0, tzinfo=UTC
    )
    assert next_daily_run(datetime(2026, 10, 16, 0, 59, tzinfo=UTC), shanghai) == datetime(
        2026, 10, 16, 1, 0, tzinfo=UTC
    )
    assert next_daily_run(datetime(2026, 10, 16, 1, 0, tzinfo=UTC), shanghai) == datetime(
        2026, 10, 17, 1, 0, tzinfo=UTC
    )


async def test_the_ladder_runs_every_site_morning_by_itself(seeded, issue_day) -> None:
    runtime, client = seeded
    issue_day(date(2026, 9, 28))
    issued = await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=auth(runtime))
    assert issued.status_code == 201, issued.text

    async def morning(day: date) -> list[tuple[str, str]]:
        """Fire the timers due by that morning's run (09:00 in Shanghai) and the steps it took."""
        issue_day(day)  # the clock the handler reads: 09:00 UTC that day
        await fire_due(runtime, timers, now=datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC))
        steps = events_of(await outbox_events(runtime), "billing.dunning.step.v1")
        return sorted((e.data["unit_id"], e.data["action"]) for e in steps)

    assert await morning(date(2026, 10, 15)) == []  # due today: nothing overdue yet
    notices = await morning(date(2026, 10, 16))
    assert len(notices) == 4 and {action for _, action in notices} == {"notice"}
    assert await morning(date(2026, 10, 17)) == notices  # the next morning: nothing twice
    async with runtime.uow() as uow:
        pending = (
            (
                await uow.session.execute(
                    runtime.tables.timers.select().where(runtime.tables.timers.c.kind == DAILY_RUN_TIMER)
                )
            )
            .mappings()
            .all()
        )
    assert [(t["key"], t["status"]) for t in pending] == [("harbour", "pending")]
    assert pending[0]["due_at"].replace(tzinfo=UTC) == datetime(2026, 10, 18, 1, 0, tzinfo=UTC)


async def test_dunning_waits_while_the_payer_keeps_to_an_instalment_plan(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    issue_day(date(2026, 9, 28))
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)  # due 15 Oct
    issue_day(date(2026, 10, 16))
    await run(client, runtime)
    unit = "harbour-A-1201"  # 398.44 overdue
    plan = {
        "site": "harbour",
        "unit_id": unit,
        "installments": [{"due": "2026-10-20", "amount_cents": 20000}, {"due": "2026-11-20", "amount_cents": 19844}],
        "note": "hospital bills this autumn",
    }
    short = plan | {
        "installments": [{"due": "2026-10-20", "amount_cents": 100}, {"due": "2026-11-20", "amount_cents": 100}]
    }
    too_little = await client.post("/installment-plans", json=short, headers=clerk)
    assert too_little.status_code == 422 and too_little.json()["field"] == "installments"
    agreed = await client.post("/installment-plans", json=plan, headers=clerk)
    assert agreed.status_code == 201, agreed.text
    assert (await client.post("/installment-plans", json=plan, headers=clerk)).status_code == 409
    paid = payment("CASH-1201-1", 20000, unit, method="cash", received_at="2026-10-18T02:00:00Z")
    assert (await client.post("/payments", json=paid, headers=clerk)).status_code == 201

    issue_day(date(2026, 10, 31))
    kept = await run(client, runtime)
    assert {"unit_id": unit, "reason": "installment_plan", "days_overdue": 16} in kept["held"]
    assert unit not in taken(kept)

    # The second instalment is missed: the plan is broken and the ladder goes on.
    issue_day(date(2026, 11, 25))
    missed = await run(client, runtime)
    assert taken(missed)[unit] == "call"
    [listed] = (
        await client.get("/installment-plans", params={"site": "harbour", "unit_id": unit}, headers=clerk)
    ).json()["items"]
    assert (listed["status"], listed["paid_cents"], listed["due_by_now_cents"]) == ("broken", 20000, 39844)


async def test_a_plan_is_cancelled_with_its_reason_and_a_revised_one_agreed(seeded, issue_day) -> None:
    runtime, client = seeded
    clerk = auth(runtime)
    issue_day(date(2026, 9, 28))
    await client.post("/billing-periods", json={"site": "harbour", "period": "2026-10"}, headers=clerk)  # due 15 Oct
    issue_day(date(2026, 10, 16))
    unit = "harbour-A-1201"  # 398.44 overdue
    plan = {
        "site": "harbour",
        "unit_id": unit,
        "installments": [{"due": "2026-10-20", "amount_cents": 20000}, {"due": "2026-11-20", "amount_cents": 19844}],
    }
    agreed = (await client.post("/installment-plans", json=plan, headers=clerk)).json()
    cancel = f"/installment-plans/{agreed['id']}/cancel"
    assert (await client.post(cancel, json={"reason": ""}, headers=clerk)).json()["field"] == "reason"
    owner = auth(runtime, roles=("owner",), subject="harbour-A-1201-owner")
    assert (await client.post(cancel, json={"reason": "x"}, headers=owner)).status_code == 403
    ended = await client.post(cancel, json={"reason": "Paid in three parts instead"}, headers=clerk)
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["cancelled_by"]) == ("cancelled", "clerk.1")
    assert ended.json()["cancel_reason"] == "Paid in three parts instead"
    again = await client.post(cancel, json={"reason": "twice"}, headers=clerk)
    assert again.status_code == 409 and again.json()["field"] == "plan_id"

    # Dunning no longer waits for the cancelled plan; the revised plan is agreed anew and it waits again.
    assert taken(await run(client, runtime))[unit] == "notice"
    revised = plan | {"installments": [{"due": f"2026-1{n}-20", "amount_cents": 13282} for n in (0, 1, 2)]}
    assert (await client.post("/installment-plans", json=revised, headers=clerk)).status_code == 201
    paid = payment("CASH-1201-1", 13282, unit, method="cash", received_at="2026-10-18T02:00:00Z")
    assert (await client.post("/payments", json=paid, headers=clerk)).status_code == 201
    issue_day(date(2026, 10, 31))  # the reminder's day, had the revised plan not held it
    kept = await run(client, runtime)
    assert {"unit_id": unit, "reason": "installment_plan", "days_overdue": 16} in kept["held"]


async def test_a_site_sets_its_own_ladder(seeded) -> None:
    runtime, client = seeded
    url = "/sites/harbour/dunning-ladder"
    assert [s["action"] for s in (await client.get(url, headers=auth(runtime))).json()["steps"]] == [
        "notice",
        "reminder",
        "call",
        "visit",
        "letter",
    ]
    manager = auth(runtime, roles=("manager",))
    ladder = {"steps": [{"days": 3, "action": "notice"}, {"days": 20, "action": "call"}]}
    assert (await client.put(url, json=ladder, headers=auth(runtime))).status_code == 403
    saved = await client.put(url, json=ladder, headers=manager)
    assert saved.status_code == 200 and saved.json()["steps"] == ladder["steps"]
    falling = {"steps": [{"days": 20, "action": "notice"}, {"days": 3, "action": "call"}]}
    bad = await client.put(url, json=falling, headers=manager)
    assert bad.status_code == 422 and bad.json()["field"].startswith("steps")


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------

LADDER = [
    LadderStep(days=1, action="notice"),
    LadderStep(days=15, action="reminder"),
    LadderStep(days=30, action="call"),
]


@pytest.mark.unit
def test_unit_the_next_step_is_the_furthest_reached_never_one_back() -> None:
    assert next_step(LADDER, 0, set()) is None
    step = next_step(LADDER, 40, set())
    assert step is not None and step.action == "call"  # not the notice and the reminder first
    assert next_step(LADDER, 40, {"call"}) is None
    assert next_step(LADDER, 20, {"call"}) is None  # never back down the ladder in one episode
    step = next_step(LADDER, 20, {"notice"})
    assert step is not None and step.action == "reminder"
