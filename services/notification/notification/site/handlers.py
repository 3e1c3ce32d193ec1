"""Subscriber: the sites intake onboards or changes."""

from __future__ import annotations

from notification.site.service import upsert_site
from pm_events.intake import SiteUpserted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(SiteUpserted)
async def on_site_upserted(event: SiteUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_site(uow.session, event)
