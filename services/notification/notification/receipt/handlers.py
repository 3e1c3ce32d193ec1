"""Subscribers: a recorded payment sends the payer its receipt (the inbox makes a repeat a no-op; the notice's dedupe
key makes a second event about the same payment one too)."""

from __future__ import annotations

from notification.receipt.service import send_receipt
from pm_events.billing import PaymentRecorded
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(PaymentRecorded)
async def on_payment_recorded(event: PaymentRecorded, envelope: Envelope, uow: UnitOfWork) -> None:
    await send_receipt(uow, event, envelope)
