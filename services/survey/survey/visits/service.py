"""Home-visit use cases: record a visit (optionally raising a request in intake), list, and the coverage
report (which managers are behind their weekly visits, which households behind their yearly ones)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_events.billing import DunningStep
from pm_events.survey import VisitRecorded
from pm_platform.auth import Principal
from pm_platform.db import fetch_page, get_in_scope
from pm_platform.envelope import as_utc, new_id, utcnow
from pm_platform.errors import Invalid
from pm_platform.money import yuan
from pm_platform.uow import UnitOfWork
from survey.config.service import get_config
from survey.contacts.models import Party, Unit
from survey.contacts.service import party_for_unit
from survey.visits.models import (
    Coverage,
    HouseholdCoverage,
    ManagerCoverage,
    PlannedVisit,
    Visit,
    VisitCreate,
)


async def plan_dunning_visit(uow: UnitOfWork, event: DunningStep) -> None:
    """Billing's dunning ladder reached a home visit for a unit in arrears: it goes on the site's visit plan (once
    per step: a repeat of the event finds it there)."""
    if event.action != "visit":
        return
    existing = await uow.session.scalar(select(PlannedVisit.id).where(PlannedVisit.source_id == event.step_id))
    if existing is not None:
        return
    overdue = f"{yuan(event.overdue_cents)} {event.currency}"
    uow.session.add(
        PlannedVisit(
            id=new_id(),
            site=event.site,
            unit_id=event.unit_id,
            party_id=event.payer_party_id,
            reason="arrears",
            detail=f"{overdue} overdue for {event.days_overdue} days (since {event.oldest_due})",
            source_id=event.step_id,
            planned_at=utcnow(),
        )
    )


async def answer_planned(session: AsyncSession, visit: Visit) -> None:
    """A visit to a unit answers the visits planned for it."""
    planned = (
        await session.scalars(
            select(PlannedVisit).where(PlannedVisit.unit_id == visit.unit_id, PlannedVisit.closed_at.is_(None))
        )
    ).all()
    for plan in planned:
        plan.visit_id, plan.closed_at = visit.id, visit.recorded_at


async def visit_plan(
    session: AsyncSession, principal: Principal, site: str, *, open_only: bool, limit: int, offset: int
) -> tuple[Sequence[PlannedVisit], int]:
    query = select(PlannedVisit).where(principal.site_filter(PlannedVisit.site, site))
    if open_only:
        query = query.where(PlannedVisit.closed_at.is_(None))
    return await fetch_page(session, query, PlannedVisit.planned_at, PlannedVisit.id, limit=limit, offset=offset)


async def record_visit(uow: UnitOfWork, principal: Principal, body: VisitCreate) -> Visit:
    principal.check_site(body.site)
    session, now = uow.session, utcnow()
    unit = await session.get(Unit, body.unit_id)
    if unit is None or unit.site != body.site:
        raise Invalid(f"unit {body.unit_id} is not a known unit of site {body.site}", field="unit_id")
    if body.visited_at and body.visited_at > now + timedelta(minutes=5):
        raise Invalid("a visit is recorded after it happened", field="visited_at")
    party_id = body.party_id
    if party_id:
        party = await session.get(Party, party_id)
        if party is None or party.unit_id != unit.id:
            raise Invalid(f"party {party_id} does not live in unit {unit.id}", field="party_id")
    else:
        found = await party_for_unit(session, unit.id)
        party_id = found.id if found else None
    raise_request = body.raise_request.model_dump(mode="json") if body.raise_request else None
    visit = Visit(
        id=new_id(),
        site=body.site,
        unit_id=unit.id,
        party_id=party_id,
        manager=principal.subject,
        visited_at=body.visited_at or now,
        notes=body.notes,
        raise_request=raise_request,
        recorded_at=now,
    )
    session.add(visit)
    await answer_planned(session, visit)
    uow.emit(
        VisitRecorded(
            visit_id=visit.id,
            site=visit.site,
            unit_id=visit.unit_id,
            party_id=visit.party_id,
            manager=visit.manager,
            visited_at=as_utc(visit.visited_at).isoformat(),
            notes=visit.notes,
            raise_request=raise_request,
        ),
        subject=visit.id,
        site=visit.site,
        correlation_id=visit.id,
    )
    await uow.commit()
    return visit


async def get_visit(session: AsyncSession, principal: Principal, visit_id: str) -> Visit:
    return await get_in_scope(session, Visit, visit_id, principal, what="visit")


async def list_visits(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    manager: str | None,
    unit_id: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Visit], int]:
    query = select(Visit)
    query = query.where(principal.site_filter(Visit.site, site))
    if manager:
        query = query.where(Visit.manager == manager)
    if unit_id:
        query = query.where(Visit.unit_id == unit_id)
    return await fetch_page(session, query, Visit.visited_at.desc(), Visit.id, limit=limit, offset=offset)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def coverage(session: AsyncSession, principal: Principal, site: str, on: date) -> Coverage:
    """As of ``on``: each manager's visits in that ISO week against the weekly target, and the households
    whose visits this year are fewer than the yearly target pro rata (2 a year: 1 due by mid-year)."""
    principal.check_site(site)
    config = await get_config(session, site)
    week_start = on - timedelta(days=on.weekday())
    year_start = date(on.year, 1, 1)
    days_in_year = (date(on.year + 1, 1, 1) - year_start).days
    expected = math.floor(config.visits_per_household_year * ((on - year_start).days + 1) / days_in_year)
    until = _start(on + timedelta(days=1))
    visits = (
        await session.scalars(
            select(Visit).where(Visit.site == site, Visit.visited_at >= _start(year_start), Visit.visited_at < until)
        )
    ).all()
    weekly = Counter(v.manager for v in visits if as_utc(v.visited_at) >= _start(week_start))
    managers = sorted(set(config.managers) | {v.manager for v in visits})
    manager_rows = [
        ManagerCoverage(
            manager=m,
            visits_this_week=weekly[m],
            target=config.visits_per_manager_week,
            behind=weekly[m] < config.visits_per_manager_week,
        )
        for m in managers
    ]
    # Households: the site's occupied units (a vacant unit has nobody to visit).
    units = (await session.scalars(select(Unit).where(Unit.site == site, Unit.occupied.is_(True)))).all()
    per_unit = Counter(v.unit_id for v in visits)
    last: dict[str, datetime] = {}
    for v in visits:
        last[v.unit_id] = max(last.get(v.unit_id, as_utc(v.visited_at)), as_utc(v.visited_at))
    behind = [
        HouseholdCoverage(
            unit_id=u.id,
            building=u.building,
            visits_this_year=per_unit[u.id],
            expected_by_now=expected,
            last_visited_at=last.get(u.id),
        )
        for u in units
        if per_unit[u.id] < expected
    ]
    behind.sort(key=lambda h: (h.visits_this_year, h.last_visited_at or datetime.min.replace(tzinfo=UTC), h.unit_id))
    return Coverage(
        site=site,
        on=on,
        week_start=week_start,
        year=on.year,
        managers=manager_rows,
        households_total=len(units),
        households_on_track=len(units) - len(behind),
        households_target_per_year=config.visits_per_household_year,
        households_behind=behind,
    )
