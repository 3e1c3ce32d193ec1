"""survey.contacts: the households copied from intake and the fatigue budget (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from survey.seed import seed
from tests.services.survey.helpers import (
    STATUS_CHANGED,
    _questionnaire,
    assert_problem,
    auth,
    complete_work,
    feed,
    followups,
    household,
    only_followup,
    outbox,
    supervisor,
)


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
