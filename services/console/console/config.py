"""The console's own settings (``PM_CONSOLE_*``): where the five services answer, and the sign-in rules.

The console owns no domain data: it calls each service's API with the signed-in person's own token, so it
needs each service's base URL. The defaults are `make run`'s ports.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PM_CONSOLE_", extra="ignore", use_attribute_docstrings=True)

    intake_url: str = "http://127.0.0.1:8101"
    """Base URL of the intake service's API."""
    dispatch_url: str = "http://127.0.0.1:8102"
    """Base URL of the dispatch service's API."""
    billing_url: str = "http://127.0.0.1:8103"
    """Base URL of the billing service's API."""
    survey_url: str = "http://127.0.0.1:8104"
    """Base URL of the survey service's API."""
    notification_url: str = "http://127.0.0.1:8105"
    """Base URL of the notification service's API."""
    session_hours: float = 8.0
    """How long a sign-in lasts (one working shift); capped by PM_JWT_MAX_LIFETIME_SECONDS, since the session's
    token to the services lives exactly as long."""
    lockout_failures: int = 5
    """Consecutive wrong passwords that lock a staff account."""
    lockout_minutes: int = 15
    """How long a locked account stays locked."""
    service_timeout_seconds: float = 10.0
    """Timeout of one call from the console to a service."""
    display_timezone: str = "Asia/Shanghai"
    """Time zone the screens show times in (IANA name; every demo site is in China)."""
    live_heartbeat_seconds: float = 15.0
    """How often a live page's event stream (/live) sends a heartbeat and checks that its sign-in still holds."""


def load_console_settings(**overrides: object) -> ConsoleSettings:
    return ConsoleSettings(**overrides)  # type: ignore[arg-type]
