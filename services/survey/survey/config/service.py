"""Site settings and follow-up policies: read with defaults, changed by supervisors and managers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pm_platform.auth import Principal
from pm_platform.envelope import utcnow
from pm_platform.errors import NotFound
from pm_platform.uow import UnitOfWork
from survey.config.models import (
    ANY_CATEGORY,
    DEFAULTS,
    FollowUpPolicy,
    Method,
    PolicyMode,
    PolicyUpdate,
    SiteConfig,
    SiteConfigUpdate,
)


def default_config(site: str) -> SiteConfig:
    return SiteConfig(site=site, managers=[], updated_at=None, **DEFAULTS)


async def get_config(session: AsyncSession, site: str) -> SiteConfig:
    """The site's settings; a site nobody configured runs on the defaults."""
    return await session.get(SiteConfig, site) or default_config(site)


async def update_config(uow: UnitOfWork, site: str, body: SiteConfigUpdate) -> SiteConfig:
    config = await uow.session.get(SiteConfig, site, with_for_update=True)
    if config is None:
        config = default_config(site)
        uow.session.add(config)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(config, name, value)
    config.updated_at = utcnow()
    await uow.commit()
    return config


async def put_config(session: AsyncSession, site: str, values: dict[str, Any]) -> None:
    """Seed helper: set a site's settings (defaults for what ``values`` leaves out), flushing only."""
    config = await session.get(SiteConfig, site)
    if config is None:
        config = default_config(site)
        session.add(config)
    for name, value in values.items():
        setattr(config, name, value)
    config.updated_at = utcnow()
    await session.flush()


async def ensure_site(session: AsyncSession, site: str) -> None:
    """A site onboarded in intake: its settings row with the defaults; settings made since are kept."""
    if await session.get(SiteConfig, site) is None:
        await put_config(session, site, {})


async def list_policies(session: AsyncSession, principal: Principal, site: str) -> Sequence[FollowUpPolicy]:
    query = (
        select(FollowUpPolicy).where(principal.site_filter(FollowUpPolicy.site, site)).order_by(FollowUpPolicy.category)
    )
    return (await session.scalars(query)).all()


async def upsert_policy(session: AsyncSession, site: str, category: str, body: PolicyUpdate) -> FollowUpPolicy:
    policy = await session.get(FollowUpPolicy, (site, category), with_for_update=True)
    if policy is None:
        policy = FollowUpPolicy(site=site, category=category)
        session.add(policy)
    policy.mode = body.mode
    policy.sample_percent = body.sample_percent
    policy.method = body.method
    policy.updated_at = utcnow()
    await session.flush()
    return policy


async def set_policy(uow: UnitOfWork, site: str, category: str, body: PolicyUpdate) -> FollowUpPolicy:
    policy = await upsert_policy(uow.session, site, category, body)
    await uow.commit()
    return policy


async def delete_policy(uow: UnitOfWork, site: str, category: str) -> None:
    policy = await uow.session.get(FollowUpPolicy, (site, category))
    if policy is None:
        raise NotFound("follow-up policy", f"{site}/{category}")
    await uow.session.delete(policy)
    await uow.commit()


async def policy_for(session: AsyncSession, site: str, category: str | None) -> FollowUpPolicy:
    """The policy for a category, else the site's default ("*"), else: always, by call."""
    for key in ([category] if category else []) + [ANY_CATEGORY]:
        policy = await session.get(FollowUpPolicy, (site, key))
        if policy is not None:
            return policy
    return FollowUpPolicy(
        site=site, category=ANY_CATEGORY, mode=PolicyMode.always, sample_percent=None, method=Method.call
    )
