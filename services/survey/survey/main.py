"""Composition root: the survey runtime (subscriptions, timers) and its FastAPI application."""

from fastapi import FastAPI

from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import Timers, timer_job
from survey.config.handlers import subscriptions as config_subscriptions
from survey.config.views import router as config_router
from survey.contacts.handlers import subscriptions as contacts_subscriptions
from survey.contacts.views import router as contacts_router
from survey.database import Base, platform_tables
from survey.followup.handlers import subscriptions as followup_subscriptions
from survey.followup.handlers import timers as followup_timers
from survey.followup.views import router as followup_router
from survey.questionnaire.handlers import timers as questionnaire_timers
from survey.questionnaire.views import router as questionnaire_router
from survey.visits.handlers import subscriptions as visits_subscriptions
from survey.visits.views import router as visits_router

subscriptions = Subscriptions()
for part in (followup_subscriptions, contacts_subscriptions, config_subscriptions, visits_subscriptions):
    subscriptions.handlers.update(part.handlers)
timers = Timers().include(followup_timers).include(questionnaire_timers)


def build_runtime() -> Runtime:
    runtime = Runtime(load_settings("survey"), Base.metadata, platform_tables, subscriptions)
    fire_timers = timer_job(runtime, timers)

    async def survey_timers() -> None:  # background jobs are coroutine functions
        await fire_timers()

    runtime.background.append(survey_timers)
    return runtime


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(
        runtime or build_runtime(),
        title="Survey",
        routers=[followup_router, questionnaire_router, visits_router, config_router, contacts_router],
        description="Follow-up visits (回访), satisfaction surveys and home visits (走访).",
    )
