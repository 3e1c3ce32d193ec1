"""Composition root: the dispatch runtime and its FastAPI application."""

from fastapi import FastAPI

from dispatch.database import Base, platform_tables
from dispatch.department.views import router as department_router
from dispatch.workorder.handlers import subscriptions
from dispatch.workorder.views import router as workorder_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings


def build_runtime() -> Runtime:
    return Runtime(load_settings("dispatch"), Base.metadata, platform_tables, subscriptions)


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(runtime or build_runtime(), title="Dispatch", routers=[department_router, workorder_router],
                      description="Routes requests to the responsible department as work orders and tracks the work.")
