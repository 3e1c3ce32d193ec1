"""Subscribers: billing's answer to a settlement request moves a move-out or a transfer on."""

from __future__ import annotations

from intake.occupancy.service import settlement_answered
from pm_events.billing import SettlementConfirmed
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(SettlementConfirmed)
async def on_settlement_confirmed(event: SettlementConfirmed, envelope: Envelope, uow: UnitOfWork) -> None:
    await settlement_answered(uow, event, envelope)
