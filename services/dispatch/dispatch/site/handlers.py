"""Subscriber: a site onboarded in intake gets dispatch's per-site settings row."""

from __future__ import annotations

from dispatch.site.service import ensure_site
from pm_events.intake import SiteUpserted
from pm_platform.envelope import Envelope, check_timezone
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(SiteUpserted)
async def on_site_upserted(event: SiteUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await ensure_site(uow.session, event.site, check_timezone(event.timezone))
