"""Subscribers: intake asks for a unit's settlement before a move-out's keys come back or a transfer completes."""

from __future__ import annotations

from billing.settlement.moveout import finalize_move_out
from billing.settlement.service import requested
from pm_events.intake import OccupancySettlementRequested
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(OccupancySettlementRequested)
async def on_settlement_requested(event: OccupancySettlementRequested, envelope: Envelope, uow: UnitOfWork) -> None:
    """A move-out is charged to its day and its tenancy deposit settled before the answer; a transfer is answered
    from the balance as it stands."""
    await requested(uow, event, envelope, finalize=finalize_move_out)
