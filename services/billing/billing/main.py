"""Composition root: the billing runtime and its FastAPI application."""

from fastapi import FastAPI

from billing.account.handlers import subscriptions
from billing.account.views import router as account_router
from billing.database import Base, platform_tables
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings


def build_runtime() -> Runtime:
    return Runtime(load_settings("billing"), Base.metadata, platform_tables, subscriptions)


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(runtime or build_runtime(), title="Billing", routers=[account_router],
                      description="Charges on unit accounts (paid in-unit repairs to begin with).")
