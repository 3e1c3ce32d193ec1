"""Subscribers: an approved refund tells the unit's payer (the inbox makes a repeat a no-op; the notice's dedupe
key makes a second event about the same refund one too)."""

from __future__ import annotations

from notification.refund.service import tell_payer
from pm_events.billing import RefundRecorded
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(RefundRecorded)
async def on_refund_recorded(event: RefundRecorded, envelope: Envelope, uow: UnitOfWork) -> None:
    await tell_payer(uow, event, envelope)
