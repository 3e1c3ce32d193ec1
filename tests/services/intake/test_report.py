"""intake.report: the daily report and the monthly complaint analysis (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from intake.report.service import _attainment, parse_month
from intake.request.models import Request
from pm_platform.envelope import utcnow
from pm_platform.errors import Invalid
from pm_platform.sitetime import month_of_instant
from tests.services.intake.helpers import REPAIR, auth, move, post


async def test_complaints_are_classified_and_analysed_monthly(intake) -> None:
    runtime, client = intake
    complaint = {
        **REPAIR,
        "kind": "complaint",
        "in_unit": False,
        "category": "cleaning",
        "description": "Stairwell not cleaned for a week",
    }
    valid = await post(client, runtime, complaint)
    response = await client.post(
        f"/requests/{valid['id']}/classification", headers=auth(runtime), json={"complaint_class": "valid"}
    )
    assert response.status_code == 422 and response.json()["field"] == "department"
    response = await client.post(
        f"/requests/{valid['id']}/classification",
        headers=auth(runtime),
        json={"complaint_class": "valid", "department": "cleaning"},
    )
    assert response.status_code == 200 and response.json()["escalated"] is True
    await post(client, runtime, complaint, complaint_class="venting")
    repair = await post(client, runtime)
    response = await client.post(
        f"/requests/{repair['id']}/classification", headers=auth(runtime), json={"complaint_class": "inquiry"}
    )
    assert response.status_code == 422 and response.json()["field"] == "complaint_class"
    await move(client, runtime, valid["id"], "acknowledged")
    month = month_of_instant(utcnow(), "Asia/Shanghai")  # the site's month
    supervisor = auth(runtime, roles=("supervisor",))
    analysis = (
        await client.get("/reports/complaints", params={"month": month, "site": "harbour"}, headers=supervisor)
    ).json()
    assert analysis["complaints"] == 2
    assert analysis["by_category"] == {"cleaning": 2}
    assert analysis["by_class"] == {"valid": 1, "venting": 1}
    assert analysis["by_department"] == {"cleaning": 1, "unassigned": 1}
    assert analysis["acknowledge"] == {"met": 1, "missed": 0, "rate": 1.0}
    assert analysis["hot_spots"] == [
        {"site": "harbour", "unit_id": "harbour-A-0101", "category": "cleaning", "requests": 2}
    ]
    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    everywhere = (await client.get("/reports/complaints", params={"month": month}, headers=head_office)).json()
    assert everywhere["sites"] == ["harbour", "lakeside", "riverside"] and everywhere["by_site"] == {"harbour": 2}
    assert (await client.get("/reports/complaints", params={"month": "2026-13"}, headers=supervisor)).status_code == 422
    assert (await client.get("/reports/complaints", params={"month": month}, headers=auth(runtime))).status_code == 403


async def test_the_daily_report_counts_the_day(intake) -> None:
    runtime, client = intake
    first = await post(client, runtime)
    await post(client, runtime, kind="inquiry", category="charges", in_unit=False, channel="app")
    await move(client, runtime, first["id"], "acknowledged")
    await client.post(
        "/duty-log",
        headers=auth(runtime),
        json={"site": "harbour", "kind": "patrol", "note": "Block B gate latch loose"},
    )
    report = (
        await client.get("/reports/daily", params={"site": "harbour"}, headers=auth(runtime, roles=("supervisor",)))
    ).json()
    assert report["created"] == 2
    assert report["created_by_kind"] == {"repair": 1, "inquiry": 1}
    assert report["created_by_channel"] == {"phone": 1, "app": 1}
    assert report["transitions"] == {"acknowledged": 1}
    assert report["open_now"] == 2 and report["overdue_now"] == 0 and report["duty_log_entries"] == 1


async def test_the_daily_report_and_the_month_are_the_site_s_own_calendar(intake) -> None:
    """01:00 on 1 December in Shanghai is 17:00 UTC on 30 November: the site's day and month, not UTC's."""
    runtime, client = intake
    late = await post(client, runtime)
    complaint = await post(client, runtime, kind="complaint", in_unit=False, category="cleaning")
    async with runtime.sessionmaker() as session:
        at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
        await session.execute(
            update(Request).where(Request.id.in_([late["id"], complaint["id"]])).values(created_at=at)
        )
        await session.commit()
    supervisor = auth(runtime, roles=("supervisor",))

    async def created_on(day: str) -> int:
        params = {"site": "harbour", "day": day}
        report = (await client.get("/reports/daily", params=params, headers=supervisor)).json()
        return int(report["created"])

    assert (await created_on("2026-11-30"), await created_on("2026-12-01")) == (0, 2)

    async def complaints_in(month: str) -> int:
        params = {"site": "harbour", "month": month}
        return int((await client.get("/reports/complaints", params=params, headers=supervisor)).json()["complaints"])

    assert (await complaints_in("2026-11"), await complaints_in("2026-12")) == (0, 1)


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.unit
def test_unit_a_limit_counts_as_met_missed_or_not_yet_due() -> None:
    hour = timedelta(hours=1)
    pairs = [
        (NOW - 2 * hour, NOW - hour),  # met before it was due
        (NOW - hour, NOW - hour),  # met on the minute
        (NOW, NOW - hour),  # met late
        (None, NOW - hour),  # not met and past due
        (None, NOW + hour),  # pending: not counted
        (NOW, None),  # no limit: not counted
    ]
    attainment = _attainment(pairs, NOW)
    assert (attainment.met, attainment.missed, attainment.rate) == (2, 2, 0.5)
    assert _attainment([(None, NOW + hour)], NOW).rate is None


@pytest.mark.unit
def test_unit_a_month_is_its_first_day_up_to_the_first_of_the_next() -> None:
    assert parse_month("2026-11") == (date(2026, 11, 1), date(2026, 12, 1))
    assert parse_month("2026-12") == (date(2026, 12, 1), date(2027, 1, 1))
    for bad in ("2026-13", "2026/11", "November"):
        with pytest.raises(Invalid) as refused:
            parse_month(bad)
        assert refused.value.field == "month"
