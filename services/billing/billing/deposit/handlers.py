"""Subscribers: an approved decoration permit asks for its deposit and charges its fee; a settled one returns
the deposit less its deductions (the inbox makes a repeat a no-op; the service makes a second event for the
same permit one too)."""

from __future__ import annotations

from billing.deposit.service import request_decoration_deposit, settle_decoration_deposit
from pm_events.intake import DecorationApproved, DecorationSettled
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(DecorationApproved)
async def on_decoration_approved(event: DecorationApproved, envelope: Envelope, uow: UnitOfWork) -> None:
    await request_decoration_deposit(uow, event, envelope)


@subscriptions.on(DecorationSettled)
async def on_decoration_settled(event: DecorationSettled, envelope: Envelope, uow: UnitOfWork) -> None:
    await settle_decoration_deposit(uow, event, envelope)
