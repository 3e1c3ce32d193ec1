"""Subscribers and timers of broadcasts: incidents from intake, notification's own per-recipient fan-out
events, and the timer that starts a scheduled broadcast."""

from __future__ import annotations

from notification.broadcast import service
from pm_events.intake import IncidentBroadcast
from pm_events.notification import BroadcastRecipient
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()
timers = Timers()


@subscriptions.on(IncidentBroadcast)
async def on_incident_broadcast(event: IncidentBroadcast, envelope: Envelope, uow: UnitOfWork) -> None:
    await service.from_incident(uow, event, envelope)


@subscriptions.on(BroadcastRecipient)
async def on_broadcast_recipient(event: BroadcastRecipient, envelope: Envelope, uow: UnitOfWork) -> None:
    await service.deliver(uow, event, envelope)


@timers.on(service.START)
async def start_scheduled_broadcast(timer: DueTimer, uow: UnitOfWork) -> None:
    await service.start_due(uow, timer.key)
