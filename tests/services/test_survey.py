"""Survey on real SQLite and PostgreSQL: the follow-up loop (scheduling, answers that reopen, unreachable
owners, durable timers across a restart), sampling policies and the fatigue budget, questionnaires
(send, answer, satisfaction, CSV), home visits and their coverage, and scope checks."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope, utcnow
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from pm_platform.timers import fire_due, pending
from survey.database import Base, platform_tables
from survey.followup.models import FOLLOWUP_DUE_HOURS, FollowUp
from survey.followup.service import in_sample
from survey.main import create, subscriptions, timers
from survey.seed import seed

COMPLETED = "dispatch.workorder.completed.v1"
STATUS_CHANGED = "intake.request.status_changed.v1"
REQUEST_CREATED = "intake.request.created.v1"
CONSUMERS = {"dispatch": "survey-from-dispatch", "intake": "survey-from-intake"}


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(service="survey", var_dir=tmp_path, database_url=url)


@pytest.fixture
async def survey(database_urls: dict[str, str], tmp_path: Path):
    settings = _settings(database_urls["survey"], tmp_path)
    await asyncio.to_thread(migrations.upgrade, "survey", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def example(event_type: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO_ROOT / "contracts" / "examples" / f"{event_type}.json").read_text())
    return data


def envelope(runtime: Runtime, event_type: str, event_id: str, data: dict[str, Any]) -> Envelope:
    contract = runtime.catalog.contract(event_type)
    document = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"pm/{contract.producer}",
        "type": event_type,
        "subject": data.get("request_id") or data.get("party_id") or data.get("unit_id"),
        "time": "2026-11-23T08:30:01+00:00",
        "datacontenttype": "application/json",
        "dataschema": contract.dataschema,
        "site": data["site"],
        "correlationid": data.get("request_id") or event_id,
        "data": data,
    }
    if contract.has_department:
        document["department"] = data["department"]
    return runtime.catalog.parse(document)


async def feed(runtime: Runtime, event_type: str, event_id: str, **changes: Any) -> str:
    event = envelope(runtime, event_type, event_id, {**example(event_type), **changes})
    return await apply_event(runtime, CONSUMERS[event_type.split(".")[0]], subscriptions.handlers, event)


def completed(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    return envelope(runtime, COMPLETED, event_id, {**example(COMPLETED), **changes})


async def complete_work(
    runtime: Runtime,
    n: int,
    *,
    site: str = "harbour",
    unit: str = "harbour-A-0101",
    at: datetime | None = None,
    request_id: str | None = None,
) -> None:
    await feed(
        runtime,
        COMPLETED,
        f"evt-done-{n}-{request_id}",
        site=site,
        unit_id=unit,
        request_id=request_id or f"req-{n}",
        work_order_id=f"wo-{n}-{request_id}",
        completed_at=(at or utcnow()).isoformat(),
    )


async def household(
    runtime: Runtime,
    unit_id: str,
    *,
    site: str = "harbour",
    building: str = "A",
    role: str = "owner",
    party_id: str | None = None,
    occupied: bool = True,
) -> str:
    party_id = party_id or f"{unit_id}-{role}"
    stamp = "2026-11-01T00:00:00+00:00"
    await feed(
        runtime,
        "intake.unit.upserted.v1",
        f"evt-unit-{unit_id}",
        unit_id=unit_id,
        site=site,
        building=building,
        number=unit_id.split("-", 1)[1],
        occupied=occupied,
        updated_at=stamp,
    )
    await feed(
        runtime,
        "intake.party.upserted.v1",
        f"evt-party-{party_id}",
        party_id=party_id,
        site=site,
        unit_id=unit_id,
        role=role,
        name=f"Owner of {unit_id}",
        updated_at=stamp,
    )
    return party_id


def auth(
    runtime: Runtime, roles=("agent",), sites=("harbour",), party_id: str | None = None, subject: str = "agent.1"
) -> dict[str, str]:
    token = mint_token(runtime.settings, subject, list(roles), list(sites), party_id=party_id)
    return {"Authorization": "Bearer " + token}


def supervisor(runtime: Runtime, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("supervisor",), sites=(site,), subject=f"supervisor.{site}")


def owner(runtime: Runtime, party_id: str, site: str = "harbour") -> dict[str, str]:
    return auth(runtime, roles=("owner",), sites=(site,), party_id=party_id, subject=party_id)


async def outbox(runtime: Runtime, event_type: str | None = None) -> list[Envelope]:
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(runtime.tables.outbox).order_by(runtime.tables.outbox.c.id))).mappings()
        events = [runtime.catalog.parse(json.loads(r["payload"])) for r in rows]
    return [e for e in events if event_type is None or e.type == event_type]


async def followups(runtime: Runtime) -> list[FollowUp]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(FollowUp).order_by(FollowUp.created_at))).all())


async def only_followup(runtime: Runtime, request_id: str) -> FollowUp:
    [followup] = [f for f in await followups(runtime) if f.request_id == request_id]
    return followup


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    if field is not None:
        assert response.json()["field"] == field, response.json()


# --- scheduling -------------------------------------------------------------------------------------------


async def test_a_completed_work_order_schedules_one_follow_up_even_when_delivered_twice(survey) -> None:
    runtime, _ = survey
    party = await household(runtime, "harbour-A-0101")
    event = completed(runtime, "evt-completed-1")
    assert await apply_event(runtime, CONSUMERS["dispatch"], subscriptions.handlers, event) == "handled"
    assert await apply_event(runtime, CONSUMERS["dispatch"], subscriptions.handlers, event) == "duplicate"

    [followup] = await followups(runtime)
    assert (followup.request_id, followup.work_order_id, followup.site) == ("req-0001", "wo-0001", "harbour")
    assert (followup.method, followup.status, followup.source_event_id) == ("call", "scheduled", event.id)
    assert (followup.party_id, followup.source, followup.department) == (party, "work_order", "engineering")
    assert FOLLOWUP_DUE_HOURS == 24
    assert aware(followup.due_at) == datetime(2026, 11, 23, 8, 30, tzinfo=UTC) + timedelta(hours=24)

    [scheduled] = await outbox(runtime)
    assert scheduled.nats_subject == "survey.followup.scheduled.v1.harbour"
    assert scheduled.causationid == event.id
    assert scheduled.correlationid == "req-0001"
    assert scheduled.data["followup_id"] == followup.id
    assert datetime.fromisoformat(scheduled.data["due_at"]) == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
    assert (scheduled.data["method"], scheduled.data["party_id"], scheduled.data["attempt"]) == ("call", party, 1)
    async with runtime.uow() as uow:
        [timer] = await pending(uow, followup.id)
    assert timer.kind == "followup.due" and timer.due_at == aware(followup.due_at)

    # A second work order of the same request while the first follow-up is open: the owner is asked once.
    await feed(runtime, COMPLETED, "evt-completed-2", work_order_id="wo-0002", department="cleaning")
    assert len(await followups(runtime)) == 1


async def test_the_due_time_counts_from_completion_in_any_time_zone(survey) -> None:
    runtime, client = survey
    await feed(runtime, COMPLETED, "evt-completed-tz", completed_at="2026-11-23T18:00:00+08:00")
    [item] = (await client.get("/follow-ups", params={"site": "harbour"}, headers=auth(runtime))).json()["items"]
    assert datetime.fromisoformat(item["due_at"]) == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_the_due_time_is_a_site_setting(survey) -> None:
    runtime, client = survey
    changed = await client.patch(
        "/sites/harbour/survey-config", json={"followup_due_hours": 48}, headers=supervisor(runtime)
    )
    assert changed.status_code == 200 and changed.json()["followup_due_hours"] == 48
    assert changed.json()["followup_max_attempts"] == 3  # the rest keep their defaults
    await feed(runtime, COMPLETED, "evt-completed-48")
    [followup] = await followups(runtime)
    assert aware(followup.due_at) == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)
    bad = await client.patch(
        "/sites/harbour/survey-config", json={"followup_due_hours": 0}, headers=supervisor(runtime)
    )
    assert_problem(bad, 422, "followup_due_hours")
    assert_problem(
        await client.patch("/sites/harbour/survey-config", json={"followup_due_hours": 12}, headers=auth(runtime)), 403
    )


async def test_a_resolved_complaint_gets_a_follow_up_and_other_transitions_do_not(survey) -> None:
    runtime, _ = survey
    party = await household(runtime, "harbour-A-0102")
    base = {
        "request_id": "req-c1",
        "unit_id": "harbour-A-0102",
        "kind": "complaint",
        "category": "noise",
        "party_id": party,
        "department": "security",
    }
    await feed(runtime, STATUS_CHANGED, "evt-s1", **base, from_status="new", to_status="acknowledged")
    await feed(
        runtime,
        STATUS_CHANGED,
        "evt-s2",
        **base,
        from_status="in_progress",
        to_status="resolved",
        changed_at="2026-11-23T09:00:00+00:00",
    )
    await feed(
        runtime,
        STATUS_CHANGED,
        "evt-s3",
        request_id="req-r1",
        kind="repair",
        from_status="in_progress",
        to_status="resolved",
    )
    [followup] = await followups(runtime)
    assert (followup.request_id, followup.source, followup.kind, followup.category) == (
        "req-c1",
        "complaint",
        "complaint",
        "noise",
    )
    assert followup.work_order_id is None and followup.party_id == party
    assert aware(followup.due_at) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    [scheduled] = await outbox(runtime, "survey.followup.scheduled.v1")
    assert scheduled.data["source"] == "complaint" and scheduled.causationid == "evt-s2"


# --- answers and the reopen loop ---------------------------------------------------------------------------


async def test_not_solved_or_a_low_score_publishes_a_reopen_and_a_good_answer_does_not(survey) -> None:
    runtime, client = survey
    party = await household(runtime, "harbour-A-0101")
    for n in (1, 2, 3):
        await complete_work(runtime, n)
    ids = {f.request_id: f.id for f in await followups(runtime)}
    agent = auth(runtime)

    not_solved = await client.post(
        f"/follow-ups/{ids['req-1']}/result",
        headers=agent,
        json={"solved": False, "scores": {"overall": 3, "speed": 3, "attitude": 4}, "comment": "Still dripping"},
    )
    assert not_solved.status_code == 200, not_solved.text
    assert (not_solved.json()["status"], not_solved.json()["outcome"], not_solved.json()["reopen"]) == (
        "done",
        "not_solved",
        True,
    )
    low = await client.post(
        f"/follow-ups/{ids['req-2']}/result",
        headers=agent,
        json={"solved": True, "scores": {"overall": 4, "speed": 2, "attitude": 5}},
    )
    assert (low.json()["outcome"], low.json()["reopen"]) == ("low_score", True)
    good = await client.post(
        f"/follow-ups/{ids['req-3']}/result",
        headers=agent,
        json={"solved": True, "scores": {"overall": 5, "speed": 4, "attitude": 5}, "comment": "Quick and polite"},
    )
    assert (good.json()["outcome"], good.json()["reopen"]) == ("satisfied", False)

    events = {e.data["request_id"]: e for e in await outbox(runtime, "survey.followup.completed.v1")}
    first = events["req-1"]
    assert first.nats_subject == "survey.followup.completed.v1.harbour"
    assert first.correlationid == "req-1"
    assert first.data["reopen"] is True and first.data["outcome"] == "not_solved"
    assert first.data["solved"] is False and first.data["comment"] == "Still dripping"
    assert first.data["scores"] == {"overall": 3, "speed": 3, "attitude": 4}
    assert (first.data["party_id"], first.data["work_order_id"]) == (party, "wo-1-None")
    assert (events["req-2"].data["outcome"], events["req-2"].data["reopen"]) == ("low_score", True)
    assert (events["req-3"].data["outcome"], events["req-3"].data["reopen"]) == ("satisfied", False)
    async with runtime.uow() as uow:
        assert await pending(uow, ids["req-1"]) == []  # the answer cancelled the due timer

    again = await client.post(f"/follow-ups/{ids['req-3']}/result", headers=agent, json={"solved": True})
    assert_problem(again, 409, "status")
    assert len(await outbox(runtime, "survey.followup.completed.v1")) == 3


async def test_answer_validation_names_the_field(survey) -> None:
    runtime, client = survey
    await complete_work(runtime, 1)
    [followup] = await followups(runtime)
    url = f"/follow-ups/{followup.id}/result"
    bad_score = await client.post(
        url, headers=auth(runtime), json={"solved": True, "scores": {"overall": 6, "speed": 3, "attitude": 3}}
    )
    assert_problem(bad_score, 422, "scores.overall")
    assert_problem(await client.post(url, headers=auth(runtime), json={"scores": None}), 422, "solved")
    assert_problem(await client.post(url, headers=auth(runtime), json={"solved": True, "mood": "ok"}), 422, "mood")
    assert_problem(await client.post("/follow-ups/nope/result", headers=auth(runtime), json={"solved": True}), 404)
    assert (await only_followup(runtime, "req-1")).status == "scheduled"


async def test_an_owner_answers_only_their_own_follow_up(survey) -> None:
    runtime, client = survey
    party = await household(runtime, "harbour-A-0101")
    other = await household(runtime, "harbour-A-0102")
    await complete_work(runtime, 1)
    [followup] = await followups(runtime)

    assert_problem(await client.get(f"/follow-ups/{followup.id}", headers=owner(runtime, other)), 403)
    assert (await client.get("/follow-ups", headers=owner(runtime, other))).json()["total"] == 0
    denied = await client.post(
        f"/follow-ups/{followup.id}/answer", headers=owner(runtime, other), json={"solved": True}
    )
    assert_problem(denied, 403, "followup_id")
    # Owners use their own endpoint; the agent endpoint is not theirs.
    assert_problem(
        await client.post(f"/follow-ups/{followup.id}/result", headers=owner(runtime, party), json={"solved": True}),
        403,
    )
    mine = await client.get("/follow-ups", headers=owner(runtime, party))
    assert [i["id"] for i in mine.json()["items"]] == [followup.id]
    answered = await client.post(
        f"/follow-ups/{followup.id}/answer",
        headers=owner(runtime, party),
        json={"solved": True, "scores": {"overall": 1, "speed": 1, "attitude": 1}, "comment": "Rude"},
    )
    assert answered.status_code == 200, answered.text
    assert (answered.json()["outcome"], answered.json()["answered_by"]) == ("low_score", party)
    [event] = await outbox(runtime, "survey.followup.completed.v1")
    assert event.data["reopen"] is True and event.data["recorded_by"] == party


async def test_an_owner_nobody_reaches_is_closed_as_unreachable_after_the_configured_attempts(survey) -> None:
    runtime, client = survey
    await household(runtime, "harbour-A-0101")
    await client.patch(
        "/sites/harbour/survey-config",
        json={"followup_max_attempts": 2, "followup_retry_hours": 3},
        headers=supervisor(runtime),
    )
    await complete_work(runtime, 1)
    [followup] = await followups(runtime)

    first = await client.post(f"/follow-ups/{followup.id}/attempts", headers=auth(runtime), json={"note": "no answer"})
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["attempts"]) == ("scheduled", 1)
    moved = datetime.fromisoformat(first.json()["due_at"])
    assert timedelta(hours=2, minutes=59) < moved - utcnow() <= timedelta(hours=3)
    assert await outbox(runtime, "survey.followup.completed.v1") == []

    second = await client.post(f"/follow-ups/{followup.id}/attempts", headers=auth(runtime), json={})
    assert (second.json()["status"], second.json()["outcome"], second.json()["attempts"]) == (
        "unreachable",
        "unreachable",
        2,
    )
    [event] = await outbox(runtime, "survey.followup.completed.v1")
    assert (event.data["outcome"], event.data["reopen"], event.data["attempts"]) == ("unreachable", False, 2)
    assert event.data["scores"] is None
    assert_problem(
        await client.post(f"/follow-ups/{followup.id}/attempts", headers=auth(runtime), json={}), 409, "status"
    )


async def test_due_timers_survive_a_restart_messages_are_resent_then_unreachable(database_urls, tmp_path) -> None:
    settings = _settings(database_urls["survey"], tmp_path)
    await asyncio.to_thread(migrations.upgrade, "survey", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        put = await client.put(
            "/sites/harbour/followup-policies/cleaning",
            headers=supervisor(runtime),
            json={"mode": "always", "method": "message"},
        )
        assert put.status_code == 200, put.text
    await household(runtime, "harbour-A-0101")
    await household(runtime, "harbour-A-0102")
    done_at = utcnow()
    # req-m: a cleaning request (message follow-up); req-c: a water repair (a call task for an agent).
    await feed(
        runtime, REQUEST_CREATED, "evt-created-m", request_id="req-m", category="cleaning", unit_id="harbour-A-0101"
    )
    await complete_work(runtime, 1, request_id="req-m", at=done_at)
    await complete_work(runtime, 2, request_id="req-c", unit="harbour-A-0102", at=done_at)
    message, call = await only_followup(runtime, "req-m"), await only_followup(runtime, "req-c")
    assert (message.method, call.method) == ("message", "call")
    await runtime.engine.dispose()

    # A new process over the same database: the timers are still there.
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    due = done_at + timedelta(hours=24)
    assert await fire_due(runtime, timers, now=due - timedelta(minutes=1)) == 0
    assert await fire_due(runtime, timers, now=due + timedelta(seconds=1)) == 2
    message, call = await only_followup(runtime, "req-m"), await only_followup(runtime, "req-c")
    assert (message.status, message.attempts) == ("scheduled", 1)
    assert aware(message.due_at) == due + timedelta(hours=4)  # retried after followup_retry_hours
    assert (call.status, call.overdue, call.attempts) == ("scheduled", True, 0)  # flagged for the supervisor
    resent = [e for e in await outbox(runtime, "survey.followup.scheduled.v1") if e.data["followup_id"] == message.id]
    assert [e.data["attempt"] for e in resent] == [1, 2]

    for hours in (4, 8):
        assert await fire_due(runtime, timers, now=due + timedelta(hours=hours, seconds=1)) == 1
    message = await only_followup(runtime, "req-m")
    assert (message.status, message.outcome, message.attempts) == ("unreachable", "unreachable", 3)
    [event] = await outbox(runtime, "survey.followup.completed.v1")
    assert (event.data["followup_id"], event.data["outcome"], event.data["reopen"]) == (
        message.id,
        "unreachable",
        False,
    )
    assert await fire_due(runtime, timers, now=due + timedelta(days=30)) == 0
    await runtime.engine.dispose()


# --- policy and fatigue ------------------------------------------------------------------------------------


async def test_a_sampling_policy_asks_a_stable_share_of_requests(survey) -> None:
    runtime, client = survey
    await household(runtime, "harbour-A-0101")
    put = await client.put(
        "/sites/harbour/followup-policies/engineering",
        headers=supervisor(runtime),
        json={"mode": "sample", "sample_percent": 30},
    )
    assert put.status_code == 200 and put.json()["mode"] == "sample"
    await client.patch("/sites/harbour/survey-config", json={"fatigue_max_contacts": 100}, headers=supervisor(runtime))
    for n in range(20):
        await complete_work(runtime, n)  # no request copy: the work order's department is the category
    rows = await followups(runtime)
    expected = {f"req-{n}" for n in range(20) if in_sample(f"req-{n}", 30)}
    assert {f.request_id for f in rows if f.status == "scheduled"} == expected
    assert 0 < len(expected) < 20
    assert {f.skip_reason for f in rows if f.status == "skipped"} == {"not_sampled"}
    assert len(await outbox(runtime, "survey.followup.scheduled.v1")) == len(expected)
    # Each skip tells intake (same unit of work), so a resolved request does not wait for an answer.
    skipped = await outbox(runtime, "survey.followup.skipped.v1")
    assert {e.data["request_id"] for e in skipped} == {f"req-{n}" for n in range(20)} - expected
    assert {(e.data["reason"], e.data["site"], e.correlationid == e.data["request_id"]) for e in skipped} == {
        ("sampled_out", "harbour", True)
    }

    listed = await client.get("/sites/harbour/followup-policies", headers=auth(runtime))
    assert [(p["category"], p["sample_percent"]) for p in listed.json()] == [("engineering", 30)]
    missing = await client.put(
        "/sites/harbour/followup-policies/engineering", headers=supervisor(runtime), json={"mode": "sample"}
    )
    assert_problem(missing, 422, "sample_percent")
    assert_problem(
        await client.put(
            "/sites/harbour/followup-policies/water", headers=supervisor(runtime), json={"mode": "sometimes"}
        ),
        422,
        "mode",
    )
    assert_problem(
        await client.put("/sites/harbour/followup-policies/water", headers=auth(runtime), json={"mode": "always"}), 403
    )
    # A 0% sample is a policy that asks nobody.
    await client.put(
        "/sites/harbour/followup-policies/engineering",
        headers=supervisor(runtime),
        json={"mode": "sample", "sample_percent": 0},
    )
    await complete_work(runtime, 99)
    assert (await only_followup(runtime, "req-99")).skip_reason == "policy_skip"
    [none_asked] = [e for e in await outbox(runtime, "survey.followup.skipped.v1") if e.data["request_id"] == "req-99"]
    assert (none_asked.data["reason"], none_asked.data["work_order_id"]) == ("policy_skip", "wo-99-None")
    assert (
        await client.delete("/sites/harbour/followup-policies/engineering", headers=supervisor(runtime))
    ).status_code == 204
    assert (await client.get("/sites/harbour/followup-policies", headers=auth(runtime))).json() == []


async def test_skip_if_rated_does_not_ask_again_about_a_request_the_owner_rated(survey) -> None:
    runtime, client = survey
    await household(runtime, "harbour-A-0101")
    await client.put("/sites/harbour/followup-policies/*", headers=supervisor(runtime), json={"mode": "skip_if_rated"})
    await complete_work(runtime, 1, request_id="req-x")
    [first] = await followups(runtime)
    await client.post(f"/follow-ups/{first.id}/result", headers=auth(runtime), json={"solved": True})
    # A second department's work order on the same request, after the owner rated it: skipped.
    await complete_work(runtime, 2, request_id="req-x")
    second = [f for f in await followups(runtime) if f.id != first.id]
    assert [(f.status, f.skip_reason) for f in second] == [("skipped", "already_rated")]
    [skipped] = await outbox(runtime, "survey.followup.skipped.v1")
    assert (skipped.data["request_id"], skipped.data["reason"]) == ("req-x", "already_rated")
    assert skipped.data["party_id"] == "harbour-A-0101-owner"
    # A request the owner did not rate is followed up.
    await complete_work(runtime, 3, request_id="req-y")
    assert (await only_followup(runtime, "req-y")).status == "scheduled"


async def test_the_fatigue_budget_spares_an_owner_across_follow_ups_and_surveys(survey) -> None:
    runtime, client = survey
    tired = await household(runtime, "harbour-A-0101")
    fresh = await household(runtime, "harbour-A-0102")
    await client.patch("/sites/harbour/survey-config", json={"fatigue_max_contacts": 2}, headers=supervisor(runtime))
    for n in (1, 2, 3):
        await complete_work(runtime, n)
    statuses = [(f.request_id, f.status, f.skip_reason) for f in await followups(runtime)]
    assert statuses == [("req-1", "scheduled", None), ("req-2", "scheduled", None), ("req-3", "skipped", "fatigue")]
    [skipped] = await outbox(runtime, "survey.followup.skipped.v1")
    assert (skipped.data["request_id"], skipped.data["reason"], skipped.data["party_id"]) == (
        "req-3",
        "contact_budget",
        tired,
    )
    budget = await client.get(f"/parties/{tired}/contact-budget", headers=auth(runtime))
    assert budget.status_code == 200
    assert (budget.json()["used"], budget.json()["remaining"], budget.json()["max_contacts"]) == (2, 0, 2)
    # A complaint is always followed up, budget or not.
    await feed(
        runtime,
        STATUS_CHANGED,
        "evt-c",
        request_id="req-c",
        kind="complaint",
        category="noise",
        unit_id="harbour-A-0101",
        party_id=tired,
        from_status="in_progress",
        to_status="resolved",
    )
    assert (await only_followup(runtime, "req-c")).status == "scheduled"

    created = await client.post("/surveys", headers=supervisor(runtime), json=_questionnaire())
    sent = await client.post(f"/surveys/{created.json()['id']}/send", headers=supervisor(runtime))
    assert sent.status_code == 200, sent.text
    assert (sent.json()["invited"], sent.json()["excluded_by_budget"]) == (1, 1)
    [invitation] = await outbox(runtime, "survey.invitation.requested.v1")
    assert invitation.data["party_id"] == fresh
    assert (await client.get(f"/parties/{fresh}/contact-budget", headers=auth(runtime))).json()["used"] == 1
    assert_problem(
        await client.get(f"/parties/{fresh}/contact-budget", headers=auth(runtime, sites=("riverside",))), 403
    )


# --- questionnaires ----------------------------------------------------------------------------------------


def _questionnaire(**changes: Any) -> dict[str, Any]:
    return {
        "site": "harbour",
        "title": "Harbour satisfaction 2026",
        "questions": [
            {"kind": "scale", "text": "Cleaning of public areas", "department": "cleaning"},
            {"kind": "scale", "text": "Repairs", "department": "engineering"},
            {"kind": "choice", "text": "How do you prefer to be contacted?", "options": ["phone", "app", "sms"]},
            {"kind": "text", "text": "Anything else?", "required": False},
        ],
        **changes,
    }


async def test_a_questionnaire_is_sent_answered_reported_and_exported(survey) -> None:
    runtime, client = survey
    parties = [await household(runtime, f"harbour-A-010{n}") for n in (1, 2, 3)]
    await household(runtime, "harbour-B-0301", building="B")
    boss = supervisor(runtime)
    created = await client.post("/surveys", headers=boss, json=_questionnaire(buildings=["A"]))
    assert created.status_code == 201, created.text
    survey_id = created.json()["id"]
    questions = [q["id"] for q in created.json()["questions"]]
    assert created.json()["status"] == "draft" and len(questions) == 4

    sent = await client.post(f"/surveys/{survey_id}/send", headers=boss)
    assert (sent.json()["status"], sent.json()["invited"]) == ("sent", 3)
    assert_problem(await client.post(f"/surveys/{survey_id}/send", headers=boss), 409, "status")
    requested = await outbox(runtime, "survey.invitation.requested.v1")
    assert sorted(e.data["party_id"] for e in requested) == sorted(parties)  # building A only
    first = requested[0]
    assert first.nats_subject == "survey.invitation.requested.v1.harbour"
    assert first.data["link"] == f"/invitations/{first.data['invitation_id']}"
    assert (first.data["survey_id"], first.data["question_count"]) == (survey_id, 4)
    invitation_of = {e.data["party_id"]: e.data["invitation_id"] for e in requested}

    # The owner sees their invitation and its questions, answers it; an agent records two by phone.
    mine = await client.get("/invitations", headers=owner(runtime, parties[0]))
    assert [i["id"] for i in mine.json()["items"]] == [invitation_of[parties[0]]]
    detail = await client.get(f"/invitations/{invitation_of[parties[0]]}", headers=owner(runtime, parties[0]))
    assert [q["id"] for q in detail.json()["questions"]] == questions
    answer_url = f"/invitations/{invitation_of[parties[0]]}/answer"
    answers = [
        {"question_id": questions[0], "value": 5},
        {"question_id": questions[1], "value": 3},
        {"question_id": questions[2], "value": "app"},
        {"question_id": questions[3], "value": "Thanks, all good"},
    ]
    bad_scale = [{**answers[0], "value": 7}, *answers[1:]]
    assert_problem(
        await client.post(answer_url, headers=owner(runtime, parties[0]), json={"answers": bad_scale}),
        422,
        "answers.0.value",
    )
    bad_choice = [*answers[:2], {**answers[2], "value": "pigeon"}]
    assert_problem(
        await client.post(answer_url, headers=owner(runtime, parties[0]), json={"answers": bad_choice}),
        422,
        "answers.2.value",
    )
    unknown = [*answers, {"question_id": "q-nope", "value": 1}]
    assert_problem(
        await client.post(answer_url, headers=owner(runtime, parties[0]), json={"answers": unknown}),
        422,
        "answers.4.question_id",
    )
    assert_problem(
        await client.post(answer_url, headers=owner(runtime, parties[0]), json={"answers": answers[1:]}), 422, "answers"
    )
    assert_problem(await client.post(answer_url, headers=owner(runtime, parties[1]), json={"answers": answers}), 403)
    ok = await client.post(answer_url, headers=owner(runtime, parties[0]), json={"answers": answers})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["channel"]) == ("answered", "owner")
    assert_problem(
        await client.post(answer_url, headers=owner(runtime, parties[0]), json={"answers": answers}), 409, "status"
    )
    by_phone = await client.post(
        f"/invitations/{invitation_of[parties[1]]}/phone-answer",
        headers=auth(runtime),
        json={
            "answers": [
                {"question_id": questions[0], "value": 2},
                {"question_id": questions[1], "value": 4},
                {"question_id": questions[2], "value": "phone"},
            ]
        },
    )
    assert (by_phone.json()["channel"], by_phone.status_code) == ("phone", 200)

    report = (await client.get(f"/surveys/{survey_id}/report", headers=auth(runtime))).json()
    assert (report["invited"], report["responded"], report["response_rate"]) == (3, 2, 0.6667)
    # Scale answers 5, 3, 2, 4: satisfied 5 and 4, basically 3, dissatisfied 2 -> (2 + 1) / 4.
    assert report["satisfaction"] == {
        "answered": 4,
        "satisfied": 2,
        "basically_satisfied": 1,
        "dissatisfied": 1,
        "rate": 0.75,
    }
    assert report["by_department"]["cleaning"]["rate"] == 0.5
    assert report["by_department"]["engineering"]["rate"] == 1.0
    assert report["questions"][2]["choices"] == {"phone": 1, "app": 1, "sms": 0}
    assert report["questions"][0]["average"] == 3.5

    exported = await client.get(f"/surveys/{survey_id}/export.csv", headers=boss)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:6] == ["invitation_id", "unit_id", "building", "party_id", "answered_at", "channel"]
    assert rows[0][6:] == [
        "Q1 Cleaning of public areas",
        "Q2 Repairs",
        "Q3 How do you prefer to be contacted?",
        "Q4 Anything else?",
    ]
    assert [(r[1], r[5], r[6:]) for r in rows[1:]] == [
        ("harbour-A-0101", "owner", ["5", "3", "app", "Thanks, all good"]),
        ("harbour-A-0102", "phone", ["2", "4", "phone", ""]),
    ]

    site_report = await client.get("/satisfaction", params={"site": "harbour"}, headers=boss)
    [harbour] = site_report.json()
    assert harbour["surveys"]["rate"] == 0.75 and harbour["by_department"]["cleaning"]["answered"] == 2
    later = await client.get("/satisfaction", params={"site": "harbour", "since": "2099-01-01T00:00:00Z"}, headers=boss)
    assert later.json()[0]["surveys"]["answered"] == 0  # surveys sent in the period only
    assert_problem(await client.get("/satisfaction", params={"since": "yesterday"}, headers=boss), 422, "query.since")

    closed = await client.post(f"/surveys/{survey_id}/close", headers=boss)
    assert closed.json()["status"] == "closed"
    late = await client.post(
        f"/invitations/{invitation_of[parties[2]]}/answer",
        headers=owner(runtime, parties[2]),
        json={"answers": answers},
    )
    assert_problem(late, 409, "survey_id")


async def test_a_questionnaire_is_validated_naming_the_field(survey) -> None:
    runtime, client = survey
    boss = supervisor(runtime)
    one_option = _questionnaire(questions=[{"kind": "choice", "text": "Pick", "options": ["only"]}])
    assert_problem(await client.post("/surveys", headers=boss, json=one_option), 422, "questions.0.options")
    no_size = _questionnaire(sample={"method": "random"})
    assert_problem(await client.post("/surveys", headers=boss, json=no_size), 422, "sample.size")
    assert_problem(await client.post("/surveys", headers=boss, json=_questionnaire(questions=[])), 422, "questions")
    assert_problem(await client.post("/surveys", headers=boss, json=_questionnaire(site="har.bour")), 422, "site")
    past = (utcnow() - timedelta(hours=1)).isoformat()
    assert_problem(await client.post("/surveys", headers=boss, json=_questionnaire(closes_at=past)), 422, "closes_at")
    empty = await client.post("/surveys", headers=boss, json=_questionnaire(buildings=["Z"]))
    assert_problem(await client.post(f"/surveys/{empty.json()['id']}/send", headers=boss), 409, "buildings")


async def test_a_survey_closes_by_itself_at_its_closing_time_after_a_restart(database_urls, tmp_path) -> None:
    settings = _settings(database_urls["survey"], tmp_path)
    await asyncio.to_thread(migrations.upgrade, "survey", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    party = await household(runtime, "harbour-A-0101")
    closes_at = utcnow() + timedelta(days=14)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t") as client:
        created = await client.post(
            "/surveys", headers=supervisor(runtime), json=_questionnaire(closes_at=closes_at.isoformat())
        )
        survey_id = created.json()["id"]
        assert (await client.post(f"/surveys/{survey_id}/send", headers=supervisor(runtime))).status_code == 200
    [requested] = await outbox(runtime, "survey.invitation.requested.v1")
    assert datetime.fromisoformat(requested.data["closes_at"]) == closes_at
    await runtime.engine.dispose()

    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    assert await fire_due(runtime, timers, now=closes_at - timedelta(minutes=1)) == 0
    assert await fire_due(runtime, timers, now=closes_at + timedelta(seconds=1)) == 1
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t") as client:
        detail = await client.get(f"/surveys/{survey_id}", headers=supervisor(runtime))
        assert detail.json()["status"] == "closed"
        answer = await client.post(
            f"/invitations/{requested.data['invitation_id']}/answer",
            headers=owner(runtime, party),
            json={"answers": [{"question_id": "x", "value": 1}]},
        )
        assert_problem(answer, 409, "survey_id")
    await runtime.engine.dispose()


async def test_samples_are_random_or_stratified_by_building(survey) -> None:
    runtime, client = survey
    for n in range(1, 7):
        await household(runtime, f"harbour-A-010{n}", building="A")
    for n in range(1, 4):
        await household(runtime, f"harbour-B-030{n}", building="B")
    await household(runtime, "harbour-B-0309", building="B", role="tenant")  # a tenant-only household counts
    boss = supervisor(runtime)

    stratified = await client.post(
        "/surveys", headers=boss, json=_questionnaire(sample={"method": "stratified", "size": 5})
    )
    sent = await client.post(f"/surveys/{stratified.json()['id']}/send", headers=boss)
    assert sent.json()["invited"] == 5
    invitations = (
        await client.get("/invitations", params={"survey_id": stratified.json()["id"]}, headers=boss)
    ).json()["items"]
    buildings = sorted(i["building"] for i in invitations)
    assert buildings == ["A", "A", "A", "B", "B"]  # 6 and 4 households: 3 and 2 of 5

    random_sample = await client.post(
        "/surveys", headers=boss, json=_questionnaire(sample={"method": "random", "size": 4})
    )
    assert (await client.post(f"/surveys/{random_sample.json()['id']}/send", headers=boss)).json()["invited"] == 4
    everyone = await client.post("/surveys", headers=boss, json=_questionnaire())
    assert (await client.post(f"/surveys/{everyone.json()['id']}/send", headers=boss)).json()["invited"] == 10


# --- home visits -------------------------------------------------------------------------------------------


async def test_a_visit_that_finds_a_problem_raises_a_request_and_coverage_shows_who_is_behind(survey) -> None:
    runtime, client = survey
    party = await household(runtime, "harbour-A-0101")
    await household(runtime, "harbour-A-0102")
    await household(runtime, "harbour-B-0302", building="B", occupied=False)
    await client.patch(
        "/sites/harbour/survey-config",
        headers=supervisor(runtime),
        json={"managers": ["manager.harbour", "manager.two"]},
    )
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    today = utcnow().date()

    visit = await client.post(
        "/visits",
        headers=manager,
        json={
            "site": "harbour",
            "unit_id": "harbour-A-0101",
            "notes": "Balcony drain blocked",
            "raise_request": {
                "kind": "repair",
                "category": "drainage",
                "description": "Balcony drain blocked",
                "in_unit": True,
            },
        },
    )
    assert visit.status_code == 201, visit.text
    assert (visit.json()["manager"], visit.json()["party_id"]) == ("manager.harbour", party)
    [event] = await outbox(runtime, "survey.visit.recorded.v1")
    assert event.nats_subject == "survey.visit.recorded.v1.harbour"
    assert event.data["raise_request"] == {
        "kind": "repair",
        "category": "drainage",
        "description": "Balcony drain blocked",
        "priority": "normal",
        "in_unit": True,
    }
    assert (event.data["unit_id"], event.data["party_id"], event.data["manager"]) == (
        "harbour-A-0101",
        party,
        "manager.harbour",
    )
    plain = await client.post(
        "/visits", headers=manager, json={"site": "harbour", "unit_id": "harbour-A-0101", "notes": "Follow-up chat"}
    )
    assert plain.status_code == 201
    assert (await outbox(runtime, "survey.visit.recorded.v1"))[1].data["raise_request"] is None

    assert_problem(
        await client.post(
            "/visits", headers=manager, json={"site": "harbour", "unit_id": "harbour-Z-9999", "notes": "x"}
        ),
        422,
        "unit_id",
    )
    assert_problem(
        await client.post(
            "/visits",
            headers=manager,
            json={
                "site": "harbour",
                "unit_id": "harbour-A-0101",
                "notes": "x",
                "raise_request": {"kind": "wish", "category": "x", "description": "x"},
            },
        ),
        422,
        "raise_request.kind",
    )
    assert_problem(
        await client.post(
            "/visits", headers=manager, json={"site": "harbour", "unit_id": "harbour-A-0101", "notes": ""}
        ),
        422,
        "notes",
    )
    future = (utcnow() + timedelta(days=2)).isoformat()
    assert_problem(
        await client.post(
            "/visits",
            headers=manager,
            json={"site": "harbour", "unit_id": "harbour-A-0101", "notes": "x", "visited_at": future},
        ),
        422,
        "visited_at",
    )

    # Mid-year: each household is due one visit of two; both managers owe two a week.
    mid_year = date(today.year, 7, 15)
    coverage = await client.get(
        "/visits/coverage", params={"site": "harbour", "on": mid_year.isoformat()}, headers=supervisor(runtime)
    )
    assert coverage.status_code == 200, coverage.text
    body = coverage.json()
    assert body["households_total"] == 2 and body["households_target_per_year"] == 2  # the vacant unit is out
    assert {m["manager"]: m["behind"] for m in body["managers"]} == {"manager.harbour": True, "manager.two": True}
    now_report = (
        await client.get(
            "/visits/coverage", params={"site": "harbour", "on": today.isoformat()}, headers=supervisor(runtime)
        )
    ).json()
    managers = {m["manager"]: (m["visits_this_week"], m["behind"]) for m in now_report["managers"]}
    assert managers == {"manager.harbour": (2, False), "manager.two": (0, True)}
    if now_report["households_behind"]:  # whether anyone is behind depends on the date: the unvisited one first
        assert now_report["households_behind"][0]["unit_id"] == "harbour-A-0102"
        assert all(
            h["unit_id"] != "harbour-A-0101" or h["visits_this_year"] < h["expected_by_now"]
            for h in now_report["households_behind"]
        )
    year_end = (
        await client.get(
            "/visits/coverage", params={"site": "harbour", "on": f"{today.year}-12-31"}, headers=supervisor(runtime)
        )
    ).json()
    assert [(h["unit_id"], h["visits_this_year"], h["expected_by_now"]) for h in year_end["households_behind"]] == [
        ("harbour-A-0102", 0, 2)
    ]  # A-0101 had its two visits this year

    listed = await client.get("/visits", params={"site": "harbour", "unit_id": "harbour-A-0101"}, headers=auth(runtime))
    assert listed.json()["total"] == 2


# --- scope -------------------------------------------------------------------------------------------------


async def test_every_endpoint_checks_role_and_site(survey) -> None:
    runtime, client = survey
    party = await household(runtime, "harbour-A-0101")
    await household(runtime, "riverside-T1-1501", site="riverside", building="T1")
    await complete_work(runtime, 1)
    await complete_work(runtime, 2, site="riverside", unit="riverside-T1-1501")
    riverside_agent = auth(runtime, sites=("riverside",))
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    harbour_followup = (await only_followup(runtime, "req-1")).id

    listing = (await client.get("/follow-ups", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert listing["total"] == 1
    assert (await client.get("/follow-ups", headers=auth(runtime))).json()["total"] == 1
    assert (await client.get("/follow-ups", headers=head_office)).json()["total"] == 2
    assert_problem(await client.get("/follow-ups", params={"site": "riverside"}, headers=auth(runtime)), 403, "site")
    assert_problem(await client.get(f"/follow-ups/{harbour_followup}", headers=riverside_agent), 403)
    assert (await client.get(f"/follow-ups/{harbour_followup}", headers=head_office)).status_code == 200
    assert_problem(await client.get("/follow-ups/nope", headers=auth(runtime)), 404)
    assert_problem(await client.get("/follow-ups", headers=auth(runtime, roles=("worker",))), 403)
    assert_problem(
        await client.post(f"/follow-ups/{harbour_followup}/result", headers=riverside_agent, json={"solved": True}),
        403,
        "site",
    )
    assert_problem(
        await client.post(f"/follow-ups/{harbour_followup}/attempts", headers=riverside_agent, json={}), 403, "site"
    )
    assert (await only_followup(runtime, "req-1")).status == "scheduled"

    assert_problem(
        await client.post("/surveys", headers=supervisor(runtime, "riverside"), json=_questionnaire()), 403, "site"
    )
    assert_problem(await client.post("/surveys", headers=auth(runtime), json=_questionnaire()), 403)
    created = await client.post("/surveys", headers=head_office, json=_questionnaire())
    assert created.status_code == 201
    survey_id = created.json()["id"]
    assert_problem(await client.get(f"/surveys/{survey_id}", headers=riverside_agent), 403, "site")
    assert_problem(await client.post(f"/surveys/{survey_id}/send", headers=supervisor(runtime, "riverside")), 403)
    assert_problem(await client.get("/surveys", headers=owner(runtime, party)), 403)
    assert_problem(await client.get(f"/surveys/{survey_id}/export.csv", headers=auth(runtime)), 403)
    assert (await client.post(f"/surveys/{survey_id}/send", headers=supervisor(runtime))).status_code == 200
    [invitation] = (await client.get("/invitations", params={"survey_id": survey_id}, headers=auth(runtime))).json()[
        "items"
    ]
    assert_problem(await client.get(f"/invitations/{invitation['id']}", headers=riverside_agent), 403, "site")
    assert_problem(
        await client.get(
            f"/invitations/{invitation['id']}", headers=owner(runtime, "riverside-T1-1501-owner", "riverside")
        ),
        403,
    )
    assert_problem(
        await client.post(
            f"/invitations/{invitation['id']}/phone-answer",
            headers=riverside_agent,
            json={"answers": [{"question_id": "x", "value": 1}]},
        ),
        403,
        "site",
    )
    assert_problem(await client.get("/satisfaction", headers=auth(runtime)), 403)
    assert [s["site"] for s in (await client.get("/satisfaction", headers=head_office)).json()] == [
        "harbour",
        "riverside",
    ]

    assert_problem(
        await client.post(
            "/visits", headers=auth(runtime), json={"site": "harbour", "unit_id": "harbour-A-0101", "notes": "x"}
        ),
        403,
    )
    assert_problem(
        await client.post(
            "/visits",
            headers=auth(runtime, roles=("manager",), sites=("riverside",)),
            json={"site": "harbour", "unit_id": "harbour-A-0101", "notes": "x"},
        ),
        403,
        "site",
    )
    assert_problem(await client.get("/visits/coverage", params={"site": "harbour"}, headers=riverside_agent), 403)
    assert_problem(
        await client.get("/visits/coverage", params={"site": "harbour"}, headers=supervisor(runtime, "riverside")),
        403,
        "site",
    )
    assert_problem(await client.get("/sites/harbour/survey-config", headers=riverside_agent), 403, "site")
    assert_problem(await client.get("/visits"), 401)


async def test_seed_loads_the_demo_households_and_settings(survey) -> None:
    runtime, client = survey
    await seed(runtime)
    await seed(runtime)  # idempotent
    config = (await client.get("/sites/riverside/survey-config", headers=auth(runtime, sites=("riverside",)))).json()
    assert config["followup_due_hours"] == 48 and config["managers"] == ["manager.riverside"]
    budget = await client.get("/parties/harbour-A-0101-owner/contact-budget", headers=auth(runtime))
    assert budget.status_code == 200 and budget.json()["used"] == 0
    # Intake's newer copy of a party wins over the seed.
    await feed(
        runtime,
        "intake.party.upserted.v1",
        "evt-moved-out",
        party_id="harbour-A-0101-owner",
        unit_id="harbour-A-0101",
        active=False,
    )
    await complete_work(runtime, 1)
    assert (await only_followup(runtime, "req-1")).party_id is None
