"""Subscribers: a completed work order or a resolved complaint schedules a follow-up (the inbox makes a
repeat a no-op); new requests are remembered for their kind, category and reporter. The due timer."""

from __future__ import annotations

from pm_events.dispatch import WorkOrderCompleted
from pm_events.intake import RequestCreated, RequestStatusChanged
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork
from survey.followup import service

subscriptions = Subscriptions()
timers = Timers()


@subscriptions.on(WorkOrderCompleted)
async def on_work_order_completed(event: WorkOrderCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
    if event.inspection_id:
        return  # a decoration inspection serves no request: nobody to follow up
    await service.schedule_for_work_order(uow, event, envelope)


@subscriptions.on(RequestCreated)
async def on_request_created(event: RequestCreated, envelope: Envelope, uow: UnitOfWork) -> None:
    await service.remember_request(uow.session, event)


@subscriptions.on(RequestStatusChanged)
async def on_request_status_changed(event: RequestStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    await service.request_status_changed(uow, event, envelope)


@timers.on(service.DUE_TIMER)
async def on_followup_due(timer: DueTimer, uow: UnitOfWork) -> None:
    await service.followup_due(timer, uow)
