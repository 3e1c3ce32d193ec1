"""Subscribers: billing's deposit and dispatch's inspections onto the permit; the review's durable timers."""

from __future__ import annotations

from intake.decoration.service import (
    STAGES,
    deposit_held,
    deposit_returned,
    inspection_completed,
    review_limit_reached,
    timer_kind,
)
from pm_events.billing import DepositHeld, DepositReturned
from pm_events.dispatch import InspectionCompleted
from pm_platform.envelope import Envelope
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork

subscriptions = Subscriptions()
timers = Timers()


@subscriptions.on(DepositHeld)
async def on_deposit_held(event: DepositHeld, envelope: Envelope, uow: UnitOfWork) -> None:
    """Billing asked for the deposit, or received it: works may start once it is paid."""
    await deposit_held(uow, event, envelope)


@subscriptions.on(DepositReturned)
async def on_deposit_returned(event: DepositReturned, envelope: Envelope, uow: UnitOfWork) -> None:
    """Billing returned the deposit less the deductions: a settled permit closes."""
    await deposit_returned(uow, event, envelope)


@subscriptions.on(InspectionCompleted)
async def on_inspection_completed(event: InspectionCompleted, envelope: Envelope, uow: UnitOfWork) -> None:
    """An engineer's inspection result: recorded on the permit; a completion inspection completes the works or
    sends them back with the failed items as violations."""
    await inspection_completed(uow, event, envelope)


def _review_handler(stage: str) -> None:
    async def fire(timer: DueTimer, uow: UnitOfWork) -> None:
        await review_limit_reached(uow, timer.key, stage)

    fire.__name__ = f"on_decoration_review_{stage}"
    timers.on(timer_kind(stage))(fire)


for _stage in STAGES:
    _review_handler(_stage)
