"""Composition root: the survey runtime and its FastAPI application."""

from fastapi import FastAPI

from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings
from survey.database import Base, platform_tables
from survey.followup.handlers import subscriptions
from survey.followup.views import router as followup_router


def build_runtime() -> Runtime:
    return Runtime(load_settings("survey"), Base.metadata, platform_tables, subscriptions)


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(runtime or build_runtime(), title="Survey", routers=[followup_router],
                      description="Follow-up visits (回访) after completed work orders.")
