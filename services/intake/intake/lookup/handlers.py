"""Billing's account status and latest bill, kept as payment context for caller lookup."""

from __future__ import annotations

from intake.lookup.service import record_last_bill, record_payment_status
from pm_events.billing import AccountStatusChanged, BillIssued
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(AccountStatusChanged)
async def on_account_status_changed(event: AccountStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    await record_payment_status(uow, event)


@subscriptions.on(BillIssued)
async def on_bill_issued(event: BillIssued, envelope: Envelope, uow: UnitOfWork) -> None:
    await record_last_bill(uow, event)
