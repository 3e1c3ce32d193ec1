"""Subscribers and timers.

Events: a recorded request becomes a work order routed to its department (a complaint waits for its
classification: a valid one is worked by the department it names, a communicative one by nobody); a reopened
request becomes a rework order for the department that did the work; a cancelled request cancels its open work
orders (the inbox makes a repeat a no-op; a kind that needs no work order is recorded in the inbox and nothing
else).

Timers: each stage's time limit (acceptance, arrival, completion) fires a warning and a breach.
"""

from __future__ import annotations

from dispatch.workorder.models import Limit, Stage, timer_kind
from dispatch.workorder.service import (
    apply_classification,
    cancel_for_request,
    open_rework,
    open_work_order,
)
from dispatch.workorder.timelimits import fire_time_limit
from pm_events.intake import RequestClassified, RequestCreated, RequestReopened, RequestStatusChanged
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import DueTimer, TimerHandler, Timers
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()
timers = Timers()


@subscriptions.on(RequestCreated)
async def on_request_created(event: RequestCreated, envelope: Envelope, uow: UnitOfWork) -> None:
    await open_work_order(uow, event, envelope)


@subscriptions.on(RequestReopened)
async def on_request_reopened(event: RequestReopened, envelope: Envelope, uow: UnitOfWork) -> None:
    await open_rework(uow, event, envelope)


@subscriptions.on(RequestStatusChanged)
async def on_request_status_changed(event: RequestStatusChanged, envelope: Envelope, uow: UnitOfWork) -> None:
    await cancel_for_request(uow, event, envelope)


@subscriptions.on(RequestClassified)
async def on_request_classified(event: RequestClassified, envelope: Envelope, uow: UnitOfWork) -> None:
    await apply_classification(uow, event, envelope)


def _limit_handler(limit: Limit, stage: Stage) -> TimerHandler:
    async def handle(timer: DueTimer, uow: UnitOfWork) -> None:
        await fire_time_limit(uow, timer, limit, stage)

    return handle


for _limit in Limit:
    for _stage in Stage:
        timers.on(timer_kind(_limit, _stage))(_limit_handler(_limit, _stage))
