"""The department report, computed from the work orders, their transitions and the nonconformance slips."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.department.models import Department
from dispatch.report.models import DepartmentReport, Percentiles, Rate, Slips
from dispatch.workorder.models import TERMINAL, NonconformanceSlip, Status, Transition, WorkOrder
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, utcnow
from pm_platform.errors import Invalid, NotFound

DEFAULT_PERIOD = timedelta(days=30)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (a value that occurred, no interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def _rate(outcomes: list[bool]) -> Rate:
    on_time = sum(outcomes)
    return Rate(measured=len(outcomes), on_time=on_time, rate=round(on_time / len(outcomes), 4) if outcomes else None)


def _arrival(order: WorkOrder, now: datetime) -> bool | None:
    """On time, late, or not measurable yet. Completing without recording an arrival counts as arriving then."""
    reached = order.arrived_at or order.completed_at
    if reached is not None:
        return as_utc(reached) <= as_utc(order.due_at)
    if order.status == Status.cancelled or as_utc(order.due_at) > now:
        return None
    return False  # still not there, deadline passed


def _completion(order: WorkOrder, now: datetime) -> bool | None:
    due = as_utc(order.completion_due_at) if order.completion_due_at else None
    if due is None or order.status == Status.cancelled:
        return None
    if order.completed_at is not None:
        return as_utc(order.completed_at) <= due
    return False if due <= now else None


async def department_report(
    session: AsyncSession,
    principal: Principal,
    *,
    site: str | None,
    department: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[DepartmentReport]:
    now = utcnow()
    until = as_utc(until) if until else now
    since = as_utc(since) if since else until - DEFAULT_PERIOD
    if since >= until:
        raise Invalid("since must be before until", field="since")
    if site:
        principal.check_site(site)
        sites = [site]
    elif principal.all_sites:
        sites = list((await session.scalars(select(Department.site).distinct())).all())
    else:
        sites = sorted(principal.sites)
    departments = select(Department).where(Department.site.in_(sites))
    if department:
        departments = departments.where(Department.code == department)
    keys = [
        (d.site, d.code) for d in (await session.scalars(departments.order_by(Department.site, Department.code))).all()
    ]
    if department and not keys:
        raise NotFound(f"no department {department} at the site(s) asked for", field="department")

    orders: dict[tuple[str, str], list[WorkOrder]] = defaultdict(list)
    for order in (
        await session.scalars(
            select(WorkOrder).where(
                WorkOrder.site.in_(sites), WorkOrder.created_at >= since, WorkOrder.created_at < until
            )
        )
    ).all():
        orders[(order.site, order.department)].append(order)
    returns: Counter[tuple[str, str]] = Counter()
    transfers: Counter[tuple[str, str]] = Counter()
    for moved in (
        await session.scalars(
            select(Transition).where(
                Transition.site.in_(sites),
                Transition.at >= since,
                Transition.at < until,
                Transition.to_status.in_([Status.returned, Status.transferred]),
            )
        )
    ).all():
        if moved.to_status == Status.returned:
            returns[(moved.site, moved.department)] += 1
        elif moved.from_department:
            transfers[(moved.site, moved.from_department)] += 1
    slips: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for slip in (
        await session.scalars(
            select(NonconformanceSlip).where(
                NonconformanceSlip.site.in_(sites),
                NonconformanceSlip.breached_at >= since,
                NonconformanceSlip.breached_at < until,
            )
        )
    ).all():
        slips[(slip.site, slip.department)][slip.limit] += 1

    reports = []
    for key in keys:
        mine = orders.get(key, [])
        statuses = Counter(o.status for o in mine)
        arrivals = [a for a in (_arrival(o, now) for o in mine) if a is not None]
        completions = [c for c in (_completion(o, now) for o in mine) if c is not None]
        minutes = [
            (as_utc(o.completed_at) - as_utc(o.requested_at)).total_seconds() / 60
            for o in mine
            if o.completed_at is not None
        ]
        counted = slips.get(key, Counter())
        reports.append(
            DepartmentReport(
                site=key[0],
                department=key[1],
                since=since,
                until=until,
                opened=len(mine),
                rework=sum(o.rework for o in mine),
                completed=statuses.get(Status.completed, 0),
                cancelled=statuses.get(Status.cancelled, 0),
                open=sum(n for s, n in statuses.items() if Status(s) not in TERMINAL),
                by_status=dict(statuses),
                arrival=_rate(arrivals),
                completion=_rate(completions),
                completion_minutes=Percentiles(
                    count=len(minutes), p50=_round(percentile(minutes, 50)), p90=_round(percentile(minutes, 90))
                ),
                returns=returns.get(key, 0),
                transfers_out=transfers.get(key, 0),
                slips=Slips(
                    total=sum(counted.values()),
                    acceptance=counted.get("acceptance", 0),
                    arrival=counted.get("arrival", 0),
                    completion=counted.get("completion", 0),
                ),
            )
        )
    return reports


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
