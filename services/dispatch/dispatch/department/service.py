"""Department use cases: list a site's departments and route a request's category to one of them."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.department.models import DEFAULT_CATEGORY, Department, DepartmentRead, RoutingRule
from pm_platform.auth import Principal


class RoutingError(RuntimeError):
    """The site has no rule for the category and no default department (its routing is not set up yet).

    Not a contract violation: the consumer retries and, when the attempts run out, keeps the event as a
    dead letter an operator can replay once the site's routing exists.
    """


async def route(session: AsyncSession, site: str, category: str) -> str:
    """The department responsible for ``category`` at ``site``: its rule, else the site's default."""
    rules = (
        await session.scalars(
            select(RoutingRule).where(RoutingRule.site == site,
                                      RoutingRule.category.in_([category, DEFAULT_CATEGORY]))
        )
    ).all()
    by_category = {rule.category: rule.department_code for rule in rules}
    department = by_category.get(category) or by_category.get(DEFAULT_CATEGORY)
    if department is None:
        raise RoutingError(f"site {site} has no routing rule for {category!r} and no default department")
    return department


async def list_departments(session: AsyncSession, principal: Principal, site: str | None) -> list[DepartmentRead]:
    query = select(Department)
    rules = select(RoutingRule)
    if site:
        principal.check_site(site)
        query = query.where(Department.site == site)
        rules = rules.where(RoutingRule.site == site)
    elif not principal.all_sites:
        query = query.where(Department.site.in_(principal.sites))
        rules = rules.where(RoutingRule.site.in_(principal.sites))
    categories: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rule in (await session.scalars(rules.order_by(RoutingRule.category))).all():
        categories[(rule.site, rule.department_code)].append(rule.category)
    result = []
    for department in (await session.scalars(query.order_by(Department.site, Department.code))).all():
        routed = categories.get((department.site, department.code), [])
        result.append(DepartmentRead(site=department.site, code=department.code, name=department.name,
                                     categories=[c for c in routed if c != DEFAULT_CATEGORY],
                                     default=DEFAULT_CATEGORY in routed))
    return result
