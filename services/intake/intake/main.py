"""Composition root: the intake runtime and its FastAPI application."""

from fastapi import FastAPI

from intake.database import Base, platform_tables
from intake.organization.views import router as organization_router
from intake.request.handlers import subscriptions
from intake.request.views import router as request_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings


def build_runtime() -> Runtime:
    return Runtime(load_settings("intake"), Base.metadata, platform_tables, subscriptions)


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(runtime or build_runtime(), title="Intake", routers=[organization_router, request_router],
                      description="The front desk: the owner archive and every request owners raise.")
