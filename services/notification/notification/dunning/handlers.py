"""Subscribers: a dunning step tells the unit's payer of a notice, a reminder or a formal letter (calls and visits are
staff work: no message); the inbox makes a repeat a no-op and the notice's dedupe key a second event about it."""

from __future__ import annotations

from notification.dunning.service import tell_payer
from pm_events.billing import DunningStep
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(DunningStep)
async def on_dunning_step(event: DunningStep, envelope: Envelope, uow: UnitOfWork) -> None:
    await tell_payer(uow, event, envelope)
