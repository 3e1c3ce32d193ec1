"""Subscribers: the owner archive's unit and party changes refresh billing's slim copy (stale ones are ignored);
a site onboarded in intake gets its time zone, its names and its receipt counter."""

from __future__ import annotations

from billing.directory.service import upsert_party, upsert_site, upsert_unit
from billing.period.service import ensure_site
from pm_events.intake import PartyUpserted, SiteUpserted, UnitUpserted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(UnitUpserted)
async def on_unit_upserted(event: UnitUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_unit(uow.session, event)


@subscriptions.on(PartyUpserted)
async def on_party_upserted(event: PartyUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_party(uow.session, event)


@subscriptions.on(SiteUpserted)
async def on_site_upserted(event: SiteUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_site(uow.session, event.site, event.timezone, event.name, event.service_center)
    await ensure_site(uow.session, event.site)
