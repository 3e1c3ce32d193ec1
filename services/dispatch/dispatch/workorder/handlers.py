"""Subscribers: a recorded request becomes a work order routed to its department (the inbox makes a repeat a
no-op; a kind that needs no work order is recorded in the inbox and nothing else)."""

from __future__ import annotations

from dispatch.workorder.service import open_work_order
from pm_platform.consumer import Subscriptions
from pm_platform.envelope import Envelope
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()


@subscriptions.on("intake.request.created.v1")
async def on_request_created(event: Envelope, uow: UnitOfWork) -> None:
    await open_work_order(uow, event)
