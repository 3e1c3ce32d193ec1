"""Timers: a sent survey closes at its closing time."""

from __future__ import annotations

from pm_platform.timers import DueTimer, Timers
from pm_platform.uow import UnitOfWork
from survey.questionnaire import service

timers = Timers()


@timers.on(service.CLOSE_TIMER)
async def on_survey_closes(timer: DueTimer, uow: UnitOfWork) -> None:
    await service.close_when_due(timer, uow)
