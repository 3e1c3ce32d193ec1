"""The durable timer of the parcel register: the reminder of a parcel still uncollected."""

from __future__ import annotations

from intake.parcel.models import REMINDER_TIMER
from intake.parcel.service import remind
from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork

timers = Timers()


@timers.on(REMINDER_TIMER)
async def on_parcel_uncollected(timer: DueTimer, uow: UnitOfWork) -> None:
    await remind(uow, timer.key, timer.due_at)
