"""Department use cases: routing a category to a department, the time limits that apply, who on duty takes the
next order under the department's policy, and maintaining departments, staff, routing and limits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.department.models import (
    DEFAULT_CATEGORY,
    DEFAULT_TIMEZONE,
    AssignmentPolicy,
    Department,
    DepartmentRead,
    DepartmentUpdate,
    DepartmentWrite,
    LimitClass,
    RoutingRead,
    RoutingRule,
    Shift,
    SiteSettings,
    SiteSettingsUpdate,
    Staff,
    StaffRead,
    StaffUpsert,
    TimeLimit,
    TimeLimitRead,
    TimeLimitUpdate,
    on_duty,
)
from dispatch.site.service import known_site
from dispatch.workorder.models import OPEN, Status, WorkOrder
from pm_platform.auth import Principal
from pm_platform.envelope import utcnow
from pm_platform.errors import Invalid, NotFound
from pm_platform.subjects import InvalidToken, check_token

# Orders a worker holds: what "least loaded" counts.
HELD = frozenset(OPEN - {Status.created, Status.transferred, Status.returned})


class RoutingError(RuntimeError):
    """The site has no rule for the category and no default department (its routing is not set up yet).

    Not a contract violation: the consumer retries and, when the attempts run out, keeps the event as a
    dead letter an operator can replay once the site's routing exists.
    """


async def route(session: AsyncSession, site: str, category: str) -> str:
    """The department responsible for ``category`` at ``site``: its rule, else the site's default."""
    rules = (
        await session.scalars(
            select(RoutingRule).where(RoutingRule.site == site, RoutingRule.category.in_([category, DEFAULT_CATEGORY]))
        )
    ).all()
    by_category = {rule.category: rule.department_code for rule in rules}
    department = by_category.get(category) or by_category.get(DEFAULT_CATEGORY)
    if department is None:
        raise RoutingError(f"site {site} has no routing rule for {category!r} and no default department")
    return department


async def site_settings(session: AsyncSession, site: str) -> SiteSettings:
    found = await session.get(SiteSettings, site)
    return found or SiteSettings(
        site=site, timezone=DEFAULT_TIMEZONE, warning_per_mille=800, lift_trapped_categories=[]
    )


@dataclass(frozen=True)
class Limits:
    limit_class: LimitClass
    acceptance_minutes: int
    arrival_minutes: int
    completion_minutes: int
    use_appointment: bool
    warning_share: float  # the share of a limit after which the warning goes out


# Used when a site has no row for a class (a site being set up): the group's published defaults.
FALLBACK_LIMITS = {
    LimitClass.lift_trapped: (5, 10, 240, False),
    LimitClass.emergency: (10, 30, 480, False),
    LimitClass.urgent: (10, 30, 480, False),
    LimitClass.high: (60, 24 * 60, 2 * 24 * 60, True),
    LimitClass.normal: (120, 24 * 60, 3 * 24 * 60, True),
    LimitClass.low: (240, 24 * 60, 7 * 24 * 60, True),
}


def limit_class(settings: SiteSettings, kind: str, category: str, priority: str) -> LimitClass:
    if category in (settings.lift_trapped_categories or []) or (kind == "emergency" and category == "lift"):
        return LimitClass.lift_trapped
    if kind == "emergency":
        return LimitClass.emergency
    return LimitClass(priority)


async def limits_for(session: AsyncSession, site: str, kind: str, category: str, priority: str) -> Limits:
    settings = await site_settings(session, site)
    cls = limit_class(settings, kind, category, priority)
    row = await session.get(TimeLimit, (site, cls))
    if row is not None:
        values = (row.acceptance_minutes, row.arrival_minutes, row.completion_minutes, row.use_appointment)
    else:
        values = FALLBACK_LIMITS[cls]
    return Limits(cls, *values, warning_share=settings.warning_per_mille / 1000)


async def get_department(
    session: AsyncSession, site: str, code: str, *, field: str = "department", status: Literal[404, 422] = 404
) -> Department:
    """The department; NotFound when it does not exist, or Invalid (naming ``field``) with ``status=422``, for a
    command that names it."""
    department = await session.get(Department, (site, code))
    if department is None:
        if status == 404:
            raise NotFound("department", f"{code} at site {site}")
        raise Invalid(f"site {site} has no department {code}", field=field)
    return department


async def _open_orders(session: AsyncSession, site: str, assignees: Sequence[str]) -> dict[str, int]:
    if not assignees:
        return {}
    rows = await session.execute(
        select(WorkOrder.assignee, func.count())
        .where(WorkOrder.site == site, WorkOrder.assignee.in_(list(assignees)), WorkOrder.status.in_(list(HELD)))
        .group_by(WorkOrder.assignee)
    )
    return {str(assignee): int(count) for assignee, count in rows.all()}


async def choose_assignee(session: AsyncSession, department: Department, category: str, now: datetime) -> str | None:
    """The worker the department's policy gives the next order to, or None (manual, pool, nobody on duty).

    Staff qualified for the category are preferred; when none of them is on duty, anyone on duty takes it.
    """
    policy = AssignmentPolicy(department.assignment_policy)
    if policy in (AssignmentPolicy.manual, AssignmentPolicy.pool):
        return None
    settings = await site_settings(session, department.site)
    staff = (
        await session.scalars(
            select(Staff)
            .where(Staff.site == department.site, Staff.department_code == department.code, Staff.active.is_(True))
            .order_by(Staff.id)
        )
    ).all()
    present = [s for s in staff if on_duty(s.shifts or [], now, settings.timezone)]
    qualified = [s for s in present if category in (s.skills or [])]
    candidates = [s.id for s in (qualified or present)]
    if not candidates:
        return None
    if policy is AssignmentPolicy.round_robin:
        following = [c for c in candidates if department.last_assignee is None or c > department.last_assignee]
        chosen = (following or candidates)[0]
    else:  # least loaded; ties go to the first by id
        load = await _open_orders(session, department.site, candidates)
        chosen = min(candidates, key=lambda c: (load.get(c, 0), c))
    department.last_assignee = chosen
    return chosen


async def check_assignee(session: AsyncSession, site: str, department: str, assignee: str) -> Staff:
    staff = await session.get(Staff, (site, assignee))
    if staff is None or staff.department_code != department or not staff.active:
        raise Invalid(f"{assignee} is not an active member of {department} at site {site}", field="assignee")
    return staff


# --- reading and maintaining departments --------------------------------------------------------------


async def list_departments(session: AsyncSession, principal: Principal, site: str | None) -> list[DepartmentRead]:
    query = select(Department).where(principal.site_filter(Department.site, site))
    rules = select(RoutingRule).where(principal.site_filter(RoutingRule.site, site))
    staff_query = select(Staff).where(Staff.active.is_(True), principal.site_filter(Staff.site, site))
    categories: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rule in (await session.scalars(rules.order_by(RoutingRule.category))).all():
        categories[(rule.site, rule.department_code)].append(rule.category)
    now = utcnow()
    zones: dict[str, str] = {}
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for member in (await session.scalars(staff_query)).all():
        if member.site not in zones:
            zones[member.site] = (await site_settings(session, member.site)).timezone
        count = counts[(member.site, member.department_code)]
        count[0] += 1
        count[1] += on_duty(member.shifts or [], now, zones[member.site])
    result = []
    for department in (await session.scalars(query.order_by(Department.site, Department.code))).all():
        key = (department.site, department.code)
        routed = categories.get(key, [])
        result.append(
            DepartmentRead(
                site=department.site,
                code=department.code,
                name=department.name,
                assignment_policy=AssignmentPolicy(department.assignment_policy),
                contractor=department.contractor,
                categories=[c for c in routed if c != DEFAULT_CATEGORY],
                default=DEFAULT_CATEGORY in routed,
                staff=counts[key][0],
                on_duty=counts[key][1],
            )
        )
    return result


def department_name(code: str) -> str:
    return code.replace("_", " ").replace("-", " ").title()


async def add_department(session: AsyncSession, site: str, code: str, body: DepartmentWrite) -> Department:
    """Create or change a department of a site dispatch knows (its code becomes a subject token)."""
    try:
        check_token("department", code)
    except InvalidToken as exc:
        raise Invalid(str(exc), field="code") from None
    await known_site(session, site)
    department = await session.get(Department, (site, code))
    if department is None:
        department = Department(site=site, code=code)
        session.add(department)
    department.name = body.name or department_name(code)
    department.assignment_policy = body.assignment_policy
    department.contractor = body.contractor
    await session.flush()
    return department


async def put_department(
    session: AsyncSession, principal: Principal, site: str, code: str, body: DepartmentWrite
) -> DepartmentRead:
    principal.check_site(site)
    await add_department(session, site, code, body)
    await session.commit()
    [read] = [d for d in await list_departments(session, principal, site) if d.code == code]
    return read


async def update_department(
    session: AsyncSession, principal: Principal, site: str, code: str, body: DepartmentUpdate
) -> DepartmentRead:
    principal.check_site(site)
    department = await get_department(session, site, code)
    if body.name is not None:
        department.name = body.name
    if body.assignment_policy is not None:
        department.assignment_policy = body.assignment_policy
    if body.contractor is not None:
        department.contractor = body.contractor
    await session.commit()
    [read] = [d for d in await list_departments(session, principal, site) if d.code == code]
    return read


async def list_staff(session: AsyncSession, principal: Principal, site: str, code: str) -> list[StaffRead]:
    principal.check_site(site)
    principal.check_department(code)
    await get_department(session, site, code)
    members = (
        await session.scalars(select(Staff).where(Staff.site == site, Staff.department_code == code).order_by(Staff.id))
    ).all()
    timezone = (await site_settings(session, site)).timezone
    load = await _open_orders(session, site, [m.id for m in members])
    now = utcnow()
    return [
        StaffRead(
            site=m.site,
            id=m.id,
            department=m.department_code,
            name=m.name,
            skills=list(m.skills or []),
            shifts=[Shift.model_validate(x) for x in m.shifts or []],
            active=m.active,
            on_duty=m.active and on_duty(m.shifts or [], now, timezone),
            open_orders=load.get(m.id, 0),
        )
        for m in members
    ]


async def upsert_staff(
    session: AsyncSession, principal: Principal, site: str, code: str, staff_id: str, body: StaffUpsert
) -> StaffRead:
    principal.check_site(site)
    await get_department(session, site, code)
    member = await session.get(Staff, (site, staff_id))
    if member is None:
        member = Staff(site=site, id=staff_id)
        session.add(member)
    member.department_code = code
    member.name = body.name
    member.skills = list(body.skills)
    member.shifts = [shift.model_dump() for shift in body.shifts]
    member.active = body.active
    await session.commit()
    [read] = [m for m in await list_staff(session, principal, site, code) if m.id == staff_id]
    return read


async def read_routing(session: AsyncSession, principal: Principal, site: str) -> RoutingRead:
    principal.check_site(site)
    settings = await site_settings(session, site)
    rules = (
        await session.scalars(select(RoutingRule).where(RoutingRule.site == site).order_by(RoutingRule.category))
    ).all()
    limits = (await session.scalars(select(TimeLimit).where(TimeLimit.site == site))).all()
    order = list(LimitClass)
    return RoutingRead(
        site=site,
        timezone=settings.timezone,
        warning_per_mille=settings.warning_per_mille,
        lift_trapped_categories=list(settings.lift_trapped_categories or []),
        rules={rule.category: rule.department_code for rule in rules},
        time_limits=sorted(
            (TimeLimitRead.model_validate(limit) for limit in limits), key=lambda limit: order.index(limit.limit_class)
        ),
    )


async def put_routing_rule(
    session: AsyncSession, principal: Principal, site: str, category: str, department: str
) -> RoutingRead:
    principal.check_site(site)
    if category != DEFAULT_CATEGORY and not (1 <= len(category) <= 64):
        raise Invalid("a category has 1 to 64 characters", field="category")
    await get_department(session, site, department, status=422)
    rule = await session.get(RoutingRule, (site, category))
    if rule is None:
        session.add(RoutingRule(site=site, category=category, department_code=department))
    else:
        rule.department_code = department
    await session.commit()
    return await read_routing(session, principal, site)


async def put_time_limit(
    session: AsyncSession, principal: Principal, site: str, cls: LimitClass, body: TimeLimitUpdate
) -> RoutingRead:
    """New limits apply to orders opened from now on; running orders keep the deadlines they were given."""
    principal.check_site(site)
    row = await session.get(TimeLimit, (site, cls))
    if row is None:
        row = TimeLimit(site=site, limit_class=cls)
        session.add(row)
    row.acceptance_minutes, row.arrival_minutes = body.acceptance_minutes, body.arrival_minutes
    row.completion_minutes, row.use_appointment = body.completion_minutes, body.use_appointment
    await session.commit()
    return await read_routing(session, principal, site)


async def put_site_settings(
    session: AsyncSession, principal: Principal, site: str, body: SiteSettingsUpdate
) -> RoutingRead:
    principal.check_site(site)
    settings = await session.get(SiteSettings, site)
    if settings is None:
        settings = SiteSettings(site=site, timezone=DEFAULT_TIMEZONE, warning_per_mille=800, lift_trapped_categories=[])
        session.add(settings)
    if body.timezone is not None:
        settings.timezone = body.timezone
    if body.warning_per_mille is not None:
        settings.warning_per_mille = body.warning_per_mille
    if body.lift_trapped_categories is not None:
        settings.lift_trapped_categories = list(body.lift_trapped_categories)
    await session.commit()
    return await read_routing(session, principal, site)
