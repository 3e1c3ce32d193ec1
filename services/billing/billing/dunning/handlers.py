"""Subscribers: intake's valid complaints hold dunning for their unit until they are resolved (an older change
arriving late is ignored; the inbox makes a repeat a no-op)."""

from __future__ import annotations

from billing.dunning import service
from pm_events.intake import RequestClassified, RequestStatusChanged
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on(RequestClassified)
async def on_request_classified(event: RequestClassified, envelope: Envelope, uow: UnitOfWork) -> None:
    await service.on_classified(uow, event)


@subscriptions.on(RequestStatusChanged)
async def on_request_status_changed(event: RequestStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    await service.on_status_changed(uow, event)
