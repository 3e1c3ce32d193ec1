"""Composition root: the dispatch runtime and its FastAPI application."""

from fastapi import FastAPI

from dispatch.database import Base, platform_tables
from dispatch.department.views import router as department_router
from dispatch.inspection.handlers import subscriptions as inspection_subscriptions
from dispatch.inspection.views import router as inspection_router
from dispatch.pricelist.views import router as pricelist_router
from dispatch.report.views import router as report_router
from dispatch.site.handlers import subscriptions as site_subscriptions
from dispatch.site.views import router as site_router
from dispatch.workorder.handlers import subscriptions as workorder_subscriptions
from dispatch.workorder.handlers import timers
from dispatch.workorder.views import router as workorder_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import timer_job

subscriptions = Subscriptions(
    {**workorder_subscriptions.handlers, **site_subscriptions.handlers, **inspection_subscriptions.handlers}
)


def build_runtime() -> Runtime:
    runtime = Runtime(load_settings("dispatch"), Base.metadata, platform_tables, subscriptions)
    runtime.background.append(timer_job(runtime, timers))
    return runtime


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(
        runtime or build_runtime(),
        title="Dispatch",
        routers=[department_router, workorder_router, inspection_router, pricelist_router, report_router, site_router],
        description="Routes requests to the responsible department as work orders, assigns them "
        "under each department's policy, tracks their time limits and reports on them; decoration inspections "
        "as engineering work orders with their checklists.",
    )
