"""Subscribers: keep the slim copies of intake's parties and units (idempotent upserts; older versions
arriving late are ignored)."""

from __future__ import annotations

from notification.contact.service import upsert_party, upsert_unit
from pm_events.intake import PartyUpserted, UnitUpserted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(PartyUpserted)
async def on_party_upserted(event: PartyUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_party(uow.session, event)


@subscriptions.on(UnitUpserted)
async def on_unit_upserted(event: UnitUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_unit(uow.session, event)
