"""Subscriber: a site onboarded in intake gets survey's settings row with the defaults (a manager or head
office changes them through PATCH /survey-config)."""

from __future__ import annotations

from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork
from survey.config.service import ensure_site

subscriptions = Subscriptions()


@subscriptions.on("intake.site.upserted.v1")
async def on_site_upserted(event: Envelope, uow: UnitOfWork) -> None:
    await ensure_site(uow.session, event.data["site"])
