"""Composition root: the intake runtime and its FastAPI application."""

from fastapi import FastAPI

from intake.archive.views import router as archive_router
from intake.database import Base, platform_tables
from intake.decoration import metrics as decoration_metrics
from intake.decoration.handlers import subscriptions as decoration_subscriptions
from intake.decoration.handlers import timers as decoration_timers
from intake.decoration.views import router as decoration_router
from intake.document.views import router as document_router
from intake.duty.views import router as duty_router
from intake.incident.views import router as incident_router
from intake.keys.views import router as keys_router
from intake.lookup.handlers import subscriptions as lookup_subscriptions
from intake.lookup.views import router as lookup_router
from intake.occupancy.handlers import subscriptions as occupancy_subscriptions
from intake.occupancy.views import router as occupancy_router
from intake.organization.views import router as organization_router
from intake.parcel.handlers import timers as parcel_timers
from intake.parcel.views import router as parcel_router
from intake.photo.views import router as photo_router
from intake.register.views import router as register_router
from intake.release.views import router as release_router
from intake.report.views import router as report_router
from intake.request import metrics as request_metrics
from intake.request.handlers import subscriptions as request_subscriptions
from intake.request.handlers import timers as request_timers
from intake.request.views import router as request_router
from intake.request.views import units_router
from intake.visitor.handlers import timers as visitor_timers
from intake.visitor.views import router as visitor_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import Timers, timer_job

subscriptions = Subscriptions(
    {
        **request_subscriptions.handlers,
        **lookup_subscriptions.handlers,
        **decoration_subscriptions.handlers,
        **occupancy_subscriptions.handlers,
    }
)
timers = Timers().include(request_timers).include(decoration_timers).include(parcel_timers).include(visitor_timers)


def build_runtime() -> Runtime:
    runtime = Runtime(load_settings("intake"), Base.metadata, platform_tables, subscriptions)
    runtime.background.append(timer_job(runtime, timers))
    return runtime


def create(runtime: Runtime | None = None) -> FastAPI:
    app = create_app(
        runtime or build_runtime(),
        title="Intake",
        routers=[
            organization_router,
            archive_router,
            request_router,
            photo_router,
            units_router,
            lookup_router,
            incident_router,
            duty_router,
            report_router,
            decoration_router,
            occupancy_router,
            register_router,
            release_router,
            visitor_router,
            keys_router,
            parcel_router,
            document_router,
        ],
        description="The front desk: the owner archive and every request owners raise.",
    )
    request_metrics.install(app)
    decoration_metrics.install(app)
    return app
