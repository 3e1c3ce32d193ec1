"""dispatch.report: the department report (on SQLite and PostgreSQL, no NATS)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dispatch.report.service import percentile
from dispatch.workorder.handlers import timers
from pm_platform.timers import fire_due
from tests.services.dispatch.helpers import act, auth, new_order, now_iso, supervisor, worker


async def test_the_department_report(dispatch) -> None:
    runtime, client = dispatch
    sup, eng = supervisor(runtime), worker(runtime, "eng-01")
    # Five normal orders recorded 30..600 minutes ago, completed now: on time (24 hours to arrive).
    ages = [30, 60, 90, 120, 600]
    for n, age in enumerate(ages):
        order = await new_order(runtime, client, f"req-{n}", created_at=now_iso(age))
        assert (await act(client, order, "complete", eng, {"result": "Done"})).status_code == 200
    # An emergency recorded an hour ago: its limits breach (two slips), then it is completed late.
    late = await new_order(runtime, client, "req-late", kind="emergency", created_at=now_iso(60))
    assert await fire_due(runtime, timers, now=datetime.now(UTC)) == 2  # acceptance and arrival breaches
    assert (await act(client, late, "claim", eng)).status_code == 200
    assert (await act(client, late, "complete", eng, {"result": "Done late"})).status_code == 200
    # One returned and still open; one cancelled; one moved to cleaning.
    returned = await new_order(runtime, client, "req-ret")
    assert (await act(client, returned, "return", eng, {"reason": "Not ours"})).status_code == 200
    cancelled = await new_order(runtime, client, "req-can")
    assert (await act(client, cancelled, "cancel", sup, {"reason": "Duplicate"})).status_code == 200
    moved = await new_order(runtime, client, "req-mov")
    assert (await act(client, moved, "transfer", eng, {"department": "cleaning", "reason": "Mess"})).status_code == 200

    response = await client.get("/reports/departments", params={"site": "harbour"}, headers=sup)
    assert response.status_code == 200, response.text
    reports = {r["department"]: r for r in response.json()}
    assert set(reports) == {"engineering", "cleaning", "greening", "security", "lift"}
    report = reports["engineering"]
    assert (report["opened"], report["completed"], report["cancelled"], report["open"]) == (8, 6, 1, 1)
    assert report["by_status"] == {"completed": 6, "cancelled": 1, "returned": 1}
    assert report["arrival"] == {"measured": 6, "on_time": 5, "rate": round(5 / 6, 4)}
    assert report["completion"] == {"measured": 6, "on_time": 6, "rate": 1.0}
    minutes = report["completion_minutes"]
    assert minutes["count"] == 6
    assert minutes["p50"] == pytest.approx(60, abs=1)  # 30, 60, 60, 90, 120, 600: the 3rd
    assert minutes["p90"] == pytest.approx(600, abs=1)
    assert (report["returns"], report["transfers_out"]) == (1, 1)
    assert report["slips"] == {"total": 2, "acceptance": 1, "arrival": 1, "completion": 0}
    # An order counts for the department holding it: the transferred one is cleaning's now.
    assert reports["cleaning"]["opened"] == 1 and reports["cleaning"]["slips"]["total"] == 0

    only = await client.get(
        "/reports/departments",
        params={"site": "harbour", "department": "engineering"},
        headers=auth(runtime, roles=("head_office",), sites=("*",)),
    )
    assert [r["department"] for r in only.json()] == ["engineering"]
    everywhere = (
        await client.get("/reports/departments", headers=auth(runtime, roles=("head_office",), sites=("*",)))
    ).json()
    assert {r["site"] for r in everywhere} == {"harbour", "riverside", "lakeside"}
    bad = await client.get(
        "/reports/departments",
        params={"site": "harbour", "since": "2026-12-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
        headers=sup,
    )
    assert bad.status_code == 422 and bad.json()["field"] == "since"
    before = await client.get(
        "/reports/departments", params={"site": "harbour", "until": "2020-01-01T00:00:00Z"}, headers=sup
    )
    assert {r["opened"] for r in before.json()} == {0}


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_percentiles_are_nearest_rank_values_that_occurred() -> None:
    values = [30.0, 10.0, 20.0, 40.0]
    assert percentile(values, 50) == 20.0
    assert percentile(values, 90) == 40.0
    assert percentile(values, 0) == 10.0
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) is None
