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
    from pm_platform.parts import ServiceParts


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PM_NOTIFICATION_", extra="ignore", use_attribute_docstrings=True)

    # Site-local time for quiet hours (every demo site is in China; one zone for the group).
    site_timezone: str = "Asia/Shanghai"
    """Time zone of quiet hours (IANA name; one zone for the group)."""
    quiet_start: time = time(22, 0)
    """Start of quiet hours, site time; non-emergency messages wait until they end."""
    quiet_end: time = time(8, 0)
    """End of quiet hours, site time."""
    # Messages answering an owner's own request within this window are part of the conversation the
    # owner started (they just called): quiet hours do not hold them back.
    reply_window_minutes: int = 30
    """Replies to an owner's own request within this many minutes ignore quiet hours."""
    # Per party: at most throttle_limit non-emergency messages per throttle_window_minutes.
    throttle_limit: int = 10
    """Non-emergency messages per party per throttle window; more are suppressed as throttled."""
    throttle_window_minutes: int = 60
    """Length of the throttle window."""
    # Sending: a transient failure is retried with a growing delay, then recorded as failed.
    send_max_attempts: int = 8
    """Attempts before a message that keeps failing is recorded as failed."""
    send_retry_base_seconds: float = 2.0
    """First retry delay of a failed send; it doubles per attempt."""
    send_retry_max_seconds: float = 300.0
    """Longest retry delay of a failed send."""
    send_batch: int = 500
    """Queued messages the sender takes per round."""
    send_idle_seconds: float = 0.25
    """How long an idle sender waits before looking for queued messages again."""
    send_http_concurrency: int = 16
    """Concurrent requests to the HTTP gateways."""
    # Email over SMTP (empty host: the file sink).
    smtp_host: str = ""
    """SMTP server for email; empty: email goes to the file sink."""
    smtp_port: int = 25
    """SMTP server port."""
    smtp_username: str = ""
    """SMTP login; empty: no login."""
    smtp_password: str = ""
    """SMTP password."""
    smtp_starttls: bool = False
    """Upgrade the SMTP connection with STARTTLS."""
    smtp_from: str = "service-center@evergreen.example"
    """Sender address of email."""
    smtp_timeout_seconds: float = 10.0
    """Timeout of one SMTP exchange."""
    # HTTP gateways (empty URL: the file sink); the gateway receives JSON and an Idempotency-Key.
    sms_gateway_url: str = ""
    """HTTP gateway for SMS; empty: the file sink."""
    push_gateway_url: str = ""
    """HTTP gateway for app push; empty: the file sink."""
    messaging_gateway_url: str = ""
    """HTTP gateway for messaging apps; empty: the file sink."""
    gateway_token: str = ""
    """Bearer token sent to the HTTP gateways."""
    gateway_timeout_seconds: float = 10.0
    """Timeout of one gateway request."""


def load_notification_settings(**overrides: object) -> NotificationSettings:
    return NotificationSettings(**overrides)  # type: ignore[arg-type]


_CONFIGS: WeakKeyDictionary[ServiceParts, NotificationSettings] = WeakKeyDictionary()


def configure(runtime: ServiceParts, settings: NotificationSettings) -> NotificationSettings:
    """Attach notification's settings to a runtime (build_runtime does; tests pass their own)."""
    _CONFIGS[runtime] = settings
    return settings


def config_of(runtime: ServiceParts) -> NotificationSettings:
    found = _CONFIGS.get(runtime)
    return found if found is not None else configure(runtime, load_notification_settings())
