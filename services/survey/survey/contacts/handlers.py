"""Subscribers: intake's units and parties, kept as slim local copies (idempotent upserts)."""

from __future__ import annotations

from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork
from survey.contacts.service import upsert_party, upsert_unit

subscriptions = Subscriptions()


@subscriptions.on("intake.unit.upserted.v1")
async def on_unit_upserted(event: Envelope, uow: UnitOfWork) -> None:
    await upsert_unit(uow.session, event.data)


@subscriptions.on("intake.party.upserted.v1")
async def on_party_upserted(event: Envelope, uow: UnitOfWork) -> None:
    await upsert_party(uow.session, event.data)
