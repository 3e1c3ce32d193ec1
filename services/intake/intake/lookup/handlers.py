"""Billing's account status, kept as payment context for caller lookup."""

from __future__ import annotations

from intake.lookup.service import record_payment_status
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on("billing.account.status_changed.v1")
async def on_account_status_changed(event: Envelope, uow: UnitOfWork) -> None:
    await record_payment_status(uow, event.data)
