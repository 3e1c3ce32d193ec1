"""Subscribers: a completed work order schedules its follow-up (the inbox makes a repeat a no-op)."""

from __future__ import annotations

from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork
from survey.followup.service import schedule_followup

subscriptions = Subscriptions()


@subscriptions.on("dispatch.workorder.completed.v1")
async def on_work_order_completed(event: Envelope, uow: UnitOfWork) -> None:
    await schedule_followup(uow, event)
