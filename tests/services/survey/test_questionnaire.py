"""survey.questionnaire: questionnaires sent, answered, reported, exported, sampled and closed (on SQLite and
PostgreSQL, no NATS).
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
from datetime import datetime, timedelta

import httpx
import pytest

from pm_platform import migrations
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.timers import fire_due
from survey.contacts.models import Party, Unit
from survey.database import Base, platform_tables
from survey.main import create, subscriptions, timers
from survey.questionnaire.service import allocate, draw
from tests.services.survey.helpers import (
    _questionnaire,
    _settings,
    assert_problem,
    auth,
    household,
    outbox,
    owner,
    supervisor,
)


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


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_a_stratified_sample_is_allocated_in_proportion_by_largest_remainder() -> None:
    assert allocate({"A": 50, "B": 30, "C": 20}, 10) == {"A": 5, "B": 3, "C": 2}
    assert allocate({"A": 2, "B": 1}, 2) == {"A": 1, "B": 1}  # 1.33 and 0.67: B has the larger remainder
    assert allocate({"A": 1, "B": 1}, 1) == {"A": 1, "B": 0}  # a tie goes to the first stratum by name
    assert allocate({"A": 3, "B": 1}, 10) == {"A": 3, "B": 1}  # never more than a stratum holds
    assert sum(allocate({"A": 7, "B": 11, "C": 13}, 9).values()) == 9


@pytest.mark.unit
def test_unit_a_draw_takes_everyone_a_random_sample_or_a_share_of_each_building() -> None:
    population = [
        (Party(id=f"p-{building}{n}"), Unit(id=f"{building}-{n:02d}", building=building))
        for building, count in (("A", 6), ("B", 3), ("C", 1))
        for n in range(count)
    ]
    assert draw(population, "all", 3, random.Random(1)) == population
    assert draw(population, "random", None, random.Random(1)) == population
    assert draw(population, "random", 20, random.Random(1)) == population
    sample = draw(population, "random", 4, random.Random(1))
    assert len(sample) == 4 and [u.id for _, u in sample] == sorted(u.id for _, u in sample)
    assert sample == draw(population, "random", 4, random.Random(1))  # the seed decides
    stratified = draw(population, "stratified", 5, random.Random(7))
    assert [u.building for _, u in stratified] == ["A", "A", "A", "B", "B"]  # C's half a household loses the tie
