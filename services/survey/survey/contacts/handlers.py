"""Subscribers: intake's units and parties, kept as slim local copies (idempotent upserts)."""

from __future__ import annotations

from pm_events.intake import PartyUpserted, UnitUpserted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork
from survey.contacts.service import upsert_party, upsert_unit

subscriptions = Subscriptions()


@subscriptions.on(UnitUpserted)
async def on_unit_upserted(event: UnitUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_unit(uow.session, event)


@subscriptions.on(PartyUpserted)
async def on_party_upserted(event: PartyUpserted, envelope: Envelope, uow: UnitOfWork) -> None:
    await upsert_party(uow.session, event)
