"""survey.visits: home visits, the requests they raise and their coverage (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import date, timedelta

from pm_platform.envelope import utcnow
from tests.services.survey.helpers import assert_problem, auth, feed, household, outbox, supervisor


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


async def test_a_dunning_visit_goes_on_the_plan_until_the_unit_is_visited(survey) -> None:
    runtime, client = survey
    await household(runtime, "harbour-A-0101")
    step = {"step_id": "dun-visit-1", "action": "visit", "days_overdue": 61, "overdue_cents": 25060}
    assert await feed(runtime, "billing.dunning.step.v1", "evt-dun-visit", **step) == "handled"
    assert await feed(runtime, "billing.dunning.step.v1", "evt-dun-visit-again", **step) == "handled"  # same step
    assert (
        await feed(runtime, "billing.dunning.step.v1", "evt-dun-call", step_id="dun-call", action="call") == "handled"
    )
    manager = auth(runtime, roles=("manager",), subject="manager.harbour")
    plan = (await client.get("/visits/plan", params={"site": "harbour"}, headers=manager)).json()
    assert [(p["unit_id"], p["reason"]) for p in plan["items"]] == [("harbour-A-0101", "arrears")]
    assert plan["items"][0]["detail"] == "250.60 CNY overdue for 61 days (since 2026-11-15)"

    visit = await client.post(
        "/visits", headers=manager, json={"site": "harbour", "unit_id": "harbour-A-0101", "notes": "Agreed a plan"}
    )
    assert visit.status_code == 201, visit.text
    assert (await client.get("/visits/plan", params={"site": "harbour"}, headers=manager)).json()["items"] == []
    answered = (
        await client.get("/visits/plan", params={"site": "harbour", "open_only": "false"}, headers=manager)
    ).json()
    assert answered["items"][0]["visit_id"] == visit.json()["id"]
