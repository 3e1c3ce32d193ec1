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
    oidc_issuer: str = ""
    """Sign staff in through this OpenID Connect provider (its issuer URL; discovery at
    /.well-known/openid-configuration). Empty: password sign-in against the console's own accounts. The provider's
    access token is what the console hands the services, so set PM_JWT_JWKS_URL (and PM_JWT_ISSUER,
    PM_JWT_AUDIENCE) to the same provider; its access tokens carry the claims roles, sites and department."""
    oidc_client_id: str = ""
    """The console's client id at the OpenID Connect provider."""
    oidc_client_secret: str = ""
    """The console's client secret at the OpenID Connect provider (a confidential client; PKCE is used too)."""
    oidc_redirect_url: str = "http://127.0.0.1:8100/signin/oidc/callback"
    """The console's callback URL as registered at the provider (the console's public address)."""
    oidc_scopes: str = "openid profile"
    """Scopes the console asks the provider for."""
    display_timezone: str = "Asia/Shanghai"
    """Time zone the screens show times in (IANA name; every demo site is in China)."""
    jaeger_ui_url: str = ""
    """The Jaeger UI (e.g. http://127.0.0.1:16686) when the services send spans to it over OTLP: the operations
    screen links each trace there. Empty: no link (spans are read from the services' trace files)."""


def load_console_settings(**overrides: object) -> ConsoleSettings:
    return ConsoleSettings(**overrides)  # type: ignore[arg-type]
