"""Composition root: the notification runtime (with its sender job) and its FastAPI application."""

from fastapi import FastAPI

from notification.database import Base, platform_tables
from notification.message.handlers import subscriptions
from notification.message.sender import FileSink, Sender, sender_job
from notification.message.views import router as message_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import load_settings


def build_runtime(sender: Sender | None = None) -> Runtime:
    runtime = Runtime(load_settings("notification"), Base.metadata, platform_tables, subscriptions)
    runtime.background.append(sender_job(runtime, sender or FileSink.for_var_dir(runtime.settings.var_dir)))
    return runtime


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(runtime or build_runtime(), title="Notification", routers=[message_router],
                      description="Messages to owners about their requests, work orders and charges.")
