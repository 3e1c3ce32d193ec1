"""Intake's business gauges on /metrics: open requests and breached time limits per site, every site listed."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from intake.organization.models import Site
from intake.request.handlers import timers
from pm_platform.envelope import utcnow
from pm_platform.timers import fire_due
from tests.services.intake.helpers import move, post


async def test_metrics_count_open_and_breached_requests_per_site(intake) -> None:
    runtime, client = intake
    start = utcnow()
    first = await post(client, runtime)
    await post(client, runtime)
    # Harbour acknowledges within 2 h: at 125 min both requests have breached it (after the warning).
    assert await fire_due(runtime, timers, now=start + timedelta(minutes=125)) == 4
    assert (await move(client, runtime, first["id"], "cancelled", "owner fixed it")).status_code == 200

    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("pm_intake_")
    }
    async with runtime.sessionmaker() as session:
        sites = set((await session.execute(select(Site.code))).scalars())
    assert "harbour" in sites and len(sites) > 1
    expected = {}
    for site in sites:
        mine = site == "harbour"
        expected[("pm_intake_open_requests", (("site", site),))] = 1 if mine else 0
        expected[("pm_intake_breached_requests", (("limit", "ack"), ("site", site)))] = 2 if mine else 0
        expected[("pm_intake_breached_requests", (("limit", "reply"), ("site", site)))] = 0
        # No decoration permit here (test_decoration counts a breached review).
        expected[("pm_intake_decoration_awaiting_review", (("site", site),))] = 0
        expected[("pm_intake_decoration_review_breached", (("site", site),))] = 0
    assert found == expected
