"""Subscribers: an issued bill sends its fee notice (收费通知单) to the unit's payer (the inbox makes a repeat a no-op;
the notice's dedupe key makes a second event about the same bill one too)."""

from __future__ import annotations

from notification.bill.service import send_fee_notice
from pm_events.billing import BillIssued
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(BillIssued)
async def on_bill_issued(event: BillIssued, envelope: Envelope, uow: UnitOfWork) -> None:
    await send_fee_notice(uow, event, envelope)
