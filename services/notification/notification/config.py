"""Notification's own settings (``PM_NOTIFICATION_*``): channels, quiet hours, throttle, retries.

The embedded default needs no system service: every channel writes to the file sink under ``var/``.
Setting ``PM_NOTIFICATION_SMTP_HOST`` sends email over SMTP; setting a gateway URL sends SMS, push or
messaging to that HTTP gateway.
"""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from pm_platform.runtime import Runtime


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PM_NOTIFICATION_", extra="ignore")

    # Site-local time for quiet hours (every demo site is in China; one zone for the group).
    site_timezone: str = "Asia/Shanghai"
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    # Messages answering an owner's own request within this window are part of the conversation the
    # owner started (they just called): quiet hours do not hold them back.
    reply_window_minutes: int = 30
    # Per party: at most throttle_limit non-emergency messages per throttle_window_minutes.
    throttle_limit: int = 10
    throttle_window_minutes: int = 60
    # Sending: a transient failure is retried with a growing delay, then recorded as failed.
    send_max_attempts: int = 8
    send_retry_base_seconds: float = 2.0
    send_retry_max_seconds: float = 300.0
    send_batch: int = 500
    send_idle_seconds: float = 0.25
    send_http_concurrency: int = 16
    # Email over SMTP (empty host: the file sink).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "service-center@evergreen.example"
    smtp_timeout_seconds: float = 10.0
    # HTTP gateways (empty URL: the file sink); the gateway receives JSON and an Idempotency-Key.
    sms_gateway_url: str = ""
    push_gateway_url: str = ""
    messaging_gateway_url: str = ""
    gateway_token: str = ""
    gateway_timeout_seconds: float = 10.0


def load_notification_settings(**overrides: object) -> NotificationSettings:
    return NotificationSettings(**overrides)  # type: ignore[arg-type]


_CONFIGS: WeakKeyDictionary[Runtime, NotificationSettings] = WeakKeyDictionary()


def configure(runtime: Runtime, settings: NotificationSettings) -> NotificationSettings:
    """Attach notification's settings to a runtime (build_runtime does; tests pass their own)."""
    _CONFIGS[runtime] = settings
    return settings


def config_of(runtime: Runtime) -> NotificationSettings:
    found = _CONFIGS.get(runtime)
    return found if found is not None else configure(runtime, load_notification_settings())
