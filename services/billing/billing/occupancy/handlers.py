"""Subscribers: intake's completed move-ins and move-outs keep each unit's stays (which the billing run prorates by);
a move-out returns the keys' and cards' deposits for those given back."""

from __future__ import annotations

from billing.deposit.service import return_key_card_deposits
from billing.occupancy.service import moved_in, moved_out
from pm_events.intake import OccupancyMovedIn, OccupancyMovedOut
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(OccupancyMovedIn)
async def on_moved_in(event: OccupancyMovedIn, envelope: Envelope, uow: UnitOfWork) -> None:
    await moved_in(uow, event)


@subscriptions.on(OccupancyMovedOut)
async def on_moved_out(event: OccupancyMovedOut, envelope: Envelope, uow: UnitOfWork) -> None:
    await moved_out(uow, event)
    await return_key_card_deposits(uow, event, envelope)
