"""Subscriber: a site onboarded in intake gets dispatch's per-site settings row."""

from __future__ import annotations

from dispatch.site.service import ensure_site
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope, check_timezone
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on("intake.site.upserted.v1")
async def on_site_upserted(event: Envelope, uow: UnitOfWork) -> None:
    await ensure_site(uow.session, event.data["site"], check_timezone(event.data["timezone"]))
