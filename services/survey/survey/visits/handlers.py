"""Subscribers: billing's dunning visits go on the visit plan (the inbox makes a repeat a no-op)."""

from __future__ import annotations

from pm_events.billing import DunningStep
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork
from survey.visits.service import plan_dunning_visit

subscriptions = Subscriptions()


@subscriptions.on(DunningStep)
async def on_dunning_step(event: DunningStep, envelope: Envelope, uow: UnitOfWork) -> None:
    await plan_dunning_visit(uow, event)
