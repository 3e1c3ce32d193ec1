"""Subscribers: a completed work order with a charge records it on the unit's account (the inbox makes a repeat
a no-op; a completion without a charge changes nothing)."""

from __future__ import annotations

from billing.account.service import record_repair_charge
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on("dispatch.workorder.completed.v1")
async def on_work_order_completed(event: Envelope, uow: UnitOfWork) -> None:
    await record_repair_charge(uow, event)
