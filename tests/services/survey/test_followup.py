"""survey.followup: the follow-up loop (scheduling, answers that reopen, unreachable owners, durable timers
across a restart), sampling policies, and the role and site check of every endpoint (on SQLite and PostgreSQL,
no NATS).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pm_platform import migrations
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope, utcnow
from pm_platform.runtime import Runtime
from pm_platform.timers import fire_due, pending
from survey.database import Base, platform_tables
from survey.followup.models import FOLLOWUP_DUE_HOURS, FollowUpAnswer, Outcome
from survey.followup.service import in_sample, outcome_of
from survey.main import create, subscriptions, timers
from tests.services.survey.helpers import (
    COMPLETED,
    CONSUMERS,
    STATUS_CHANGED,
    _questionnaire,
    _settings,
    assert_problem,
    auth,
    complete_work,
    envelope,
    example,
    feed,
    followups,
    household,
    only_followup,
    outbox,
    owner,
    supervisor,
)

REQUEST_CREATED = "intake.request.created.v1"


def completed(runtime: Runtime, event_id: str, **changes: Any) -> Envelope:
    return envelope(runtime, COMPLETED, event_id, {**example(COMPLETED), **changes})


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


async def test_a_decoration_inspections_work_order_is_followed_up_by_nobody(survey) -> None:
    runtime, _ = survey
    await household(runtime, "harbour-A-0101")
    # An inspection's work order serves no request (its request_id is the inspection's id): no follow-up.
    assert await feed(runtime, COMPLETED, "evt-inspected", request_id="di-19c2", inspection_id="di-19c2") == "handled"
    assert await followups(runtime) == []
    assert await outbox(runtime) == []


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


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_a_sample_is_a_stable_share_of_requests() -> None:
    ids = [f"req-{n:04d}" for n in range(2000)]
    drawn = [request_id for request_id in ids if in_sample(request_id, 30)]
    assert 500 < len(drawn) < 700
    assert drawn == [request_id for request_id in ids if in_sample(request_id, 30)]  # replays agree
    # A larger share keeps everyone a smaller one drew; 0 % asks nobody and 100 % everybody.
    assert set(drawn) <= {request_id for request_id in ids if in_sample(request_id, 60)}
    assert not any(in_sample(request_id, 0) for request_id in ids)
    assert all(in_sample(request_id, 100) for request_id in ids)


@pytest.mark.unit
def test_unit_an_answer_is_not_solved_a_low_score_or_satisfied() -> None:
    def answer(solved: bool, *scores: int) -> FollowUpAnswer:
        values = dict(zip(("overall", "speed", "attitude"), scores, strict=True)) if scores else None
        return FollowUpAnswer.model_validate({"solved": solved, "scores": values})

    assert outcome_of(answer(False, 5, 5, 5), 2) is Outcome.not_solved
    assert outcome_of(answer(True, 5, 2, 5), 2) is Outcome.low_score  # any score at the threshold
    assert outcome_of(answer(True, 3, 3, 3), 2) is Outcome.satisfied
    assert outcome_of(answer(True), 2) is Outcome.satisfied  # no scores given
