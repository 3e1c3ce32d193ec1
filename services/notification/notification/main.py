"""Composition root: the notification runtime (sender job, timers) and its FastAPI application."""

from fastapi import FastAPI

from notification.bill import handlers as bill_handlers
from notification.broadcast import handlers as broadcast_handlers
from notification.broadcast.views import router as broadcast_router
from notification.config import NotificationSettings, configure, load_notification_settings
from notification.contact import handlers as contact_handlers
from notification.contact.views import router as staff_router
from notification.database import Base, platform_tables
from notification.decoration import handlers as decoration_handlers
from notification.dunning import handlers as dunning_handlers
from notification.message import handlers as message_handlers
from notification.message.channels import Channels, build_channels
from notification.message.sender import sender_job
from notification.message.views import router as message_router
from notification.onetime import service as onetime
from notification.onetime.views import router as onetime_router
from notification.preference.views import router as preference_router
from notification.receipt import handlers as receipt_handlers
from notification.refund import handlers as refund_handlers
from notification.register import handlers as register_handlers
from notification.site import handlers as site_handlers
from notification.site.views import router as site_router
from notification.template.views import router as template_router
from pm_platform.app import create_app
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings, load_settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.timers import Timers, timer_job

subscriptions = Subscriptions(
    {
        **contact_handlers.subscriptions.handlers,
        **message_handlers.subscriptions.handlers,
        **broadcast_handlers.subscriptions.handlers,
        **site_handlers.subscriptions.handlers,
        **register_handlers.subscriptions.handlers,
        **decoration_handlers.subscriptions.handlers,
        **refund_handlers.subscriptions.handlers,
        **bill_handlers.subscriptions.handlers,
        **dunning_handlers.subscriptions.handlers,
        **receipt_handlers.subscriptions.handlers,
    }
)
timers = Timers().include(broadcast_handlers.timers)


def build_runtime(
    channels: Channels | None = None, config: NotificationSettings | None = None, settings: Settings | None = None
) -> Runtime:
    runtime = Runtime(settings or load_settings("notification"), Base.metadata, platform_tables, subscriptions)
    config = configure(runtime, config or load_notification_settings())
    channels = channels or build_channels(config, runtime.settings.var_dir)
    onetime.use_channels(runtime, channels)  # one-time codes go out at once through the same senders
    runtime.background.append(sender_job(runtime, channels))
    runtime.background.append(timer_job(runtime, timers))
    return runtime


def create(runtime: Runtime | None = None) -> FastAPI:
    return create_app(
        runtime or build_runtime(),
        title="Notification",
        routers=[
            message_router,
            onetime_router,
            broadcast_router,
            preference_router,
            template_router,
            staff_router,
            site_router,
        ],
        description="Messages to owners and staff: templates, channels, preferences, quiet hours, broadcasts.",
    )
