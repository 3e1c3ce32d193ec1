"""Sites from intake's events (older versions arriving late are ignored)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification.site.models import Site
from pm_events.intake import SiteUpserted
from pm_platform.auth import Principal
from pm_platform.envelope import as_utc, parse_utc
from pm_platform.errors import NotFound


async def upsert_site(session: AsyncSession, data: SiteUpserted) -> Site:
    """Apply ``intake.site.upserted.v1``."""
    updated_at = parse_utc(data.updated_at)
    site = await session.get(Site, data.site)
    if site is None:
        site = Site(site=data.site)
        session.add(site)
    elif as_utc(site.updated_at) > updated_at:
        return site
    site.name, site.kind, site.timezone = data.name, data.kind, data.timezone
    site.service_center, site.updated_at = data.service_center or "", updated_at
    await session.flush()
    return site


async def get_site(session: AsyncSession, principal: Principal, code: str) -> Site:
    principal.check_site(code)
    site = await session.get(Site, code)
    if site is None:
        raise NotFound("site", code)
    return site


async def list_sites(session: AsyncSession, principal: Principal) -> Sequence[Site]:
    query = select(Site).where(principal.site_filter(Site.site)).order_by(Site.site)
    return (await session.scalars(query)).all()
