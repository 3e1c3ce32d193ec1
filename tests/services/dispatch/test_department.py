"""dispatch.department: departments, staff on duty and assignment policies, routing per site (on SQLite and
PostgreSQL, no NATS).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dispatch.department.models import LimitClass, SiteSettings, on_duty
from dispatch.department.service import limit_class
from pm_platform.runtime import Runtime
from tests.services.dispatch.helpers import ALWAYS, EVERY_DAY, auth, new_order, put_staff, supervisor


async def test_departments_and_their_routing_per_site(dispatch) -> None:
    runtime, client = dispatch
    response = await client.get("/departments", params={"site": "harbour"}, headers=auth(runtime))
    assert response.status_code == 200
    departments = {d["code"]: d for d in response.json()}
    assert set(departments) == {"engineering", "cleaning", "greening", "security", "lift"}
    assert all(d["site"] == "harbour" for d in departments.values())
    assert departments["engineering"]["default"] is True and departments["lift"]["default"] is False
    assert "water" in departments["engineering"]["categories"]
    assert departments["security"]["categories"] == ["noise", "parking", "security"]
    assert departments["lift"]["name"] == "Lift"

    head_office = auth(runtime, roles=("head_office",), sites=("*",))
    everywhere = (await client.get("/departments", headers=head_office)).json()
    assert {d["site"] for d in everywhere} == {"harbour", "riverside", "lakeside"}
    assert len(everywhere) == 15
    mine = (await client.get("/departments", headers=auth(runtime))).json()
    assert {d["site"] for d in mine} == {"harbour"}
    assert (await client.get("/departments", params={"site": "riverside"}, headers=auth(runtime))).status_code == 403
    assert (await client.get("/departments")).status_code == 401


SHANGHAI = ZoneInfo("Asia/Shanghai")


def never() -> list[dict[str, Any]]:
    """Whole-day shifts on every day but today (site time): off duty now."""
    today = datetime.now(SHANGHAI).isoweekday()
    days = [d for d in EVERY_DAY if d != today]
    return [{"days": days, "start": "00:00", "end": "12:00"}, {"days": days, "start": "12:00", "end": "00:00"}]


async def set_policy(client: httpx.AsyncClient, runtime: Runtime, department: str, policy: str) -> None:
    response = await client.patch(
        f"/departments/{department}",
        params={"site": "harbour"},
        json={"assignment_policy": policy},
        headers=supervisor(runtime),
    )
    assert response.status_code == 200, response.text
    assert response.json()["assignment_policy"] == policy


async def test_round_robin_and_least_loaded_among_staff_on_duty(dispatch) -> None:
    runtime, client = dispatch
    # Greening (a contractor, manual in the demo) with staff under our control.
    await put_staff(client, runtime, "greening", "green.harbour", ALWAYS, active=False)
    await put_staff(client, runtime, "greening", "g1", ALWAYS)
    await put_staff(client, runtime, "greening", "g2", ALWAYS)
    await put_staff(client, runtime, "greening", "g3", never(), skills=("greening",))  # qualified, off duty
    manual = await new_order(runtime, client, "req-0", category="greening")
    assert (manual["status"], manual["assignee"]) == ("created", None)

    await set_policy(client, runtime, "greening", "round_robin")
    assignees = [(await new_order(runtime, client, f"req-{n}", category="greening"))["assignee"] for n in (1, 2, 3)]
    assert assignees == ["g1", "g2", "g1"]
    staff = (
        await client.get("/departments/greening/staff", params={"site": "harbour"}, headers=supervisor(runtime))
    ).json()
    assert {s["id"]: (s["on_duty"], s["open_orders"]) for s in staff} == {
        "g1": (True, 2),
        "g2": (True, 1),
        "g3": (False, 0),
        "green.harbour": (False, 0),
    }

    await set_policy(client, runtime, "greening", "least_loaded")
    assert (await new_order(runtime, client, "req-4", category="greening"))["assignee"] == "g2"  # 1 < 2
    assert (await new_order(runtime, client, "req-5", category="greening"))["assignee"] == "g1"  # tie: by id
    # A qualified worker on duty is preferred over a less loaded one without the skill.
    await put_staff(client, runtime, "greening", "g3", ALWAYS, skills=("greening",))
    await put_staff(client, runtime, "greening", "g4", ALWAYS)
    assert (await new_order(runtime, client, "req-6", category="greening"))["assignee"] == "g3"

    # Nobody on duty: the order waits unassigned for the service center.
    for member in ("g1", "g2", "g3", "g4"):
        await put_staff(client, runtime, "greening", member, never())
    assert (await new_order(runtime, client, "req-7", category="greening"))["status"] == "created"

    departments = (await client.get("/departments", params={"site": "harbour"}, headers=auth(runtime))).json()
    greening = next(d for d in departments if d["code"] == "greening")
    assert (greening["assignment_policy"], greening["contractor"], greening["staff"], greening["on_duty"]) == (
        "least_loaded",
        True,
        4,
        0,
    )
    bad = await client.patch(
        "/departments/greening",
        params={"site": "harbour"},
        json={"assignment_policy": "lottery"},
        headers=supervisor(runtime),
    )
    assert bad.status_code == 422 and bad.json()["field"] == "assignment_policy"
    bad_shift = await client.put(
        "/departments/greening/staff/g9",
        params={"site": "harbour"},
        json={"name": "G", "shifts": [{"days": [8], "start": "08:00", "end": "17:00"}]},
        headers=supervisor(runtime),
    )
    assert bad_shift.status_code == 422 and bad_shift.json()["field"] == "shifts.0.days.0"


async def test_routing_time_limits_and_settings_are_per_site(dispatch) -> None:
    runtime, client = dispatch
    manager = auth(runtime, roles=("manager",), subject="mgr.harbour")
    routing = await client.get("/routing", params={"site": "riverside"}, headers=auth(runtime, sites=("*",)))
    limits = {t["limit_class"]: t for t in routing.json()["time_limits"]}
    assert limits["normal"]["arrival_minutes"] == 240 and limits["lift_trapped"]["arrival_minutes"] == 10
    harbour = (await client.get("/routing", params={"site": "harbour"}, headers=auth(runtime))).json()
    assert harbour["rules"]["water"] == "engineering" and harbour["rules"]["*"] == "engineering"
    assert harbour["timezone"] == "Asia/Shanghai" and harbour["lift_trapped_categories"] == ["lift_trapped"]

    changed = await client.put(
        "/routing/rules/water", params={"site": "harbour"}, json={"department": "cleaning"}, headers=supervisor(runtime)
    )
    assert changed.status_code == 200 and changed.json()["rules"]["water"] == "cleaning"
    unknown = await client.put(
        "/routing/rules/water", params={"site": "harbour"}, json={"department": "plumbing"}, headers=supervisor(runtime)
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "department"
    faster = await client.put(
        "/routing/time-limits/normal",
        params={"site": "harbour"},
        headers=manager,
        json={"acceptance_minutes": 15, "arrival_minutes": 60, "completion_minutes": 240},
    )
    assert faster.status_code == 200, faster.text
    disordered = await client.put(
        "/routing/time-limits/normal",
        params={"site": "harbour"},
        headers=manager,
        json={"acceptance_minutes": 90, "arrival_minutes": 60, "completion_minutes": 240},
    )
    assert disordered.status_code == 422
    zone = await client.patch(
        "/routing/settings", params={"site": "harbour"}, json={"timezone": "Mars/Olympus"}, headers=manager
    )
    assert zone.status_code == 422 and zone.json()["field"] == "timezone"

    order = await new_order(runtime, client, "req-1")
    assert order["department"] == "cleaning"
    requested = datetime.fromisoformat(order["requested_at"])
    assert datetime.fromisoformat(order["due_at"]) == requested + timedelta(minutes=60)
    assert datetime.fromisoformat(order["acceptance_due_at"]) == requested + timedelta(minutes=15)


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


WEEKDAYS = [1, 2, 3, 4, 5]


@pytest.mark.unit
def test_unit_the_limit_class_puts_people_trapped_in_a_lift_first_then_emergencies_then_the_priority() -> None:
    settings = SiteSettings(site="harbour", lift_trapped_categories=["lift_trapped"])
    assert limit_class(settings, "repair", "lift_trapped", "low") is LimitClass.lift_trapped
    assert limit_class(settings, "emergency", "lift", "normal") is LimitClass.lift_trapped
    assert limit_class(settings, "emergency", "water", "normal") is LimitClass.emergency
    assert limit_class(settings, "repair", "lift", "high") is LimitClass.high
    assert limit_class(SiteSettings(site="lakeside", lift_trapped_categories=[]), "repair", "lift", "low") is (
        LimitClass.low
    )


@pytest.mark.unit
def test_unit_a_shift_covers_its_days_in_the_sites_local_time_and_may_run_overnight() -> None:
    day = [{"days": WEEKDAYS, "start": "09:00", "end": "17:00"}]
    night = [{"days": [5], "start": "22:00", "end": "06:00"}]  # Friday night into Saturday morning
    shanghai = "Asia/Shanghai"
    # Monday 2026-11-23 02:00 UTC is 10:00 in Shanghai.
    assert on_duty(day, datetime(2026, 11, 23, 2, 0, tzinfo=UTC), shanghai)
    assert not on_duty(day, datetime(2026, 11, 23, 9, 0, tzinfo=UTC), shanghai)  # 17:00: the shift has ended
    assert not on_duty(day, datetime(2026, 11, 22, 2, 0, tzinfo=UTC), shanghai)  # a Sunday
    assert on_duty(night, datetime(2026, 11, 27, 15, 0, tzinfo=UTC), shanghai)  # Friday 23:00
    assert on_duty(night, datetime(2026, 11, 27, 21, 0, tzinfo=UTC), shanghai)  # Saturday 05:00
    assert not on_duty(night, datetime(2026, 11, 28, 15, 0, tzinfo=UTC), shanghai)  # Saturday 23:00
    assert not on_duty([], datetime(2026, 11, 23, 2, 0, tzinfo=UTC), shanghai)
