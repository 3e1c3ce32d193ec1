"""Sites as dispatch knows them: a site exists here once intake.site.upserted.v1 has set up its settings row
(the time zone its shifts are in). Its departments, staff, routing and price list are then kept through the API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.department.models import DEFAULT_TIMEZONE, Department, SiteSettings
from dispatch.site.models import SiteRead
from pm_platform.errors import NotFound


async def ensure_site(session: AsyncSession, site: str, timezone: str = DEFAULT_TIMEZONE) -> SiteSettings:
    """The site's settings row, created with the defaults the first time (later changes go through
    ``PATCH /routing/settings`` and are kept: a repeated or older event changes nothing)."""
    settings = await session.get(SiteSettings, site)
    if settings is None:
        settings = SiteSettings(site=site, timezone=timezone, warning_per_mille=800, lift_trapped_categories=[])
        session.add(settings)
        await session.flush()
    return settings


async def known_site(session: AsyncSession, site: str) -> SiteSettings:
    settings = await session.get(SiteSettings, site)
    if settings is None:
        raise NotFound(f"site {site} is not known to dispatch (onboard it through intake first)", field="site")
    return settings


async def read_site(session: AsyncSession, site: str) -> SiteRead:
    settings = await known_site(session, site)
    departments = (
        await session.scalars(select(Department.code).where(Department.site == site).order_by(Department.code))
    ).all()
    return SiteRead(site=site, timezone=settings.timezone, departments=list(departments))
