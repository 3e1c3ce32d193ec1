"""Subscribers: a permit's approval tells its neighbours, its decisive steps tell the applicant, a deposit's
return tells the payer (the inbox makes a repeat a no-op; each notice's dedupe key makes a second event about
the same step one too)."""

from __future__ import annotations

from notification.decoration.service import tell_applicant, tell_neighbours, tell_payer
from pm_events.billing import DepositReturned
from pm_events.intake import DecorationApproved, DecorationStatusChanged
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(DecorationApproved)
async def on_decoration_approved(event: DecorationApproved, envelope: Envelope, uow: UnitOfWork) -> None:
    await tell_neighbours(uow, event, envelope)


@subscriptions.on(DecorationStatusChanged)
async def on_decoration_status_changed(event: DecorationStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    await tell_applicant(uow, event, envelope)


@subscriptions.on(DepositReturned)
async def on_deposit_returned(event: DepositReturned, envelope: Envelope, uow: UnitOfWork) -> None:
    await tell_payer(uow, event, envelope)
