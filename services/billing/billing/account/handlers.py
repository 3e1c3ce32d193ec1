"""Subscribers: a completed work order with a charge records it on the unit's account (the inbox makes a repeat
a no-op; a completion without a charge changes nothing)."""

from __future__ import annotations

from billing.account.service import record_repair_charge
from pm_events.dispatch import WorkOrderCompleted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(WorkOrderCompleted)
async def on_work_order_completed(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
    await record_repair_charge(uow, event, envelope)
