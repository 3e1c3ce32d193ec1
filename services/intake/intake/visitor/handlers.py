"""The durable timer of the visitor register: a registration's window ends."""

from __future__ import annotations

from intake.visitor.models import EXPIRE_TIMER
from intake.visitor.service import expire
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork

timers = Timers()


@timers.on(EXPIRE_TIMER)
async def on_visit_window_ended(timer: DueTimer, uow: UnitOfWork) -> None:
    await expire(uow, timer.key)
