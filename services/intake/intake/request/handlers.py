"""Subscribers: what other services did about a request, onto its timeline and status."""

from __future__ import annotations

from intake.request.models import Status
from intake.request.service import record_progress
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on("dispatch.workorder.created.v1")
async def on_work_order_created(event: Envelope, uow: UnitOfWork) -> None:
    await record_progress(uow, event, f"work order created for {event.data['department']}", Status.in_progress)


@subscriptions.on("dispatch.workorder.completed.v1")
async def on_work_order_completed(event: Envelope, uow: UnitOfWork) -> None:
    await record_progress(uow, event, f"work order completed: {event.data['result']}", Status.resolved)


@subscriptions.on("survey.followup.scheduled.v1")
async def on_followup_scheduled(event: Envelope, uow: UnitOfWork) -> None:
    await record_progress(uow, event, f"follow-up ({event.data['method']}) due {event.data['due_at']}")


@subscriptions.on("billing.charge.recorded.v1")
async def on_charge_recorded(event: Envelope, uow: UnitOfWork) -> None:
    amount = event.data["amount_cents"]
    await record_progress(uow, event, f"charge {amount // 100}.{amount % 100:02d} {event.data['currency']}: "
                                      f"{event.data['item']}")


@subscriptions.on("notification.message.sent.v1")
async def on_message_sent(event: Envelope, uow: UnitOfWork) -> None:
    if event.data.get("request_id"):
        await record_progress(uow, event, f"{event.data['channel']} message {event.data['template']}: "
                                          f"{event.data['status']}")
