"""Subscriber: a site onboarded in intake gets survey's settings row with the defaults (a manager or head
office changes them through PATCH /survey-config)."""

from __future__ import annotations

from pm_events.intake import SiteUpserted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork
from survey.config.service import ensure_site

subscriptions = Subscriptions()


@subscriptions.on(SiteUpserted)
async def on_site_upserted(event: SiteUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await ensure_site(uow.session, event.site)
