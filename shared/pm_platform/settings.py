"""Settings read from the environment (prefix ``PM_``); embedded defaults need no system services."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
# The well-known development secret: accepted only in development mode (``PM_DEV_MODE``, set by ``make run``).
DEV_JWT_SECRET = "dev-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PM_", extra="ignore")

    service: str = "unknown"
    var_dir: Path = REPO_ROOT / "var"
    contracts_dir: Path = REPO_ROOT / "contracts"
    deploy_dir: Path = REPO_ROOT / "deploy"
    # Empty means a SQLite file per service under var_dir; ``{service}`` in the URL is replaced by the
    # service name, so one setting gives each service its own database.
    database_url: str = ""
    nats_url: str = "nats://127.0.0.1:4333"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_algorithm: str = "HS256"
    jwt_jwks_url: str = ""
    jwt_audience: str = ""
    # Checked when set (``iss``); tokens living longer than the maximum (``exp - iat``) are refused.
    jwt_issuer: str = ""
    jwt_max_lifetime_seconds: int = 24 * 3600
    # Development mode: the default JWT secret is allowed. Outside it a service refuses to start without
    # a real secret or a JWKS URL.
    dev_mode: bool = False
    # Consumer behaviour: attempts before a transient failure becomes a dead letter, and the retry delays.
    consumer_max_attempts: int = 8
    consumer_retry_base_seconds: float = 0.5
    consumer_retry_max_seconds: float = 30.0
    consumer_batch: int = 128
    relay_batch: int = 256
    relay_idle_seconds: float = 0.2
    publish_timeout_seconds: float = 5.0
    timer_poll_seconds: float = 1.0
    # Housekeeping: inbox retention must exceed the streams' max age (90 days) so replays stay deduplicated.
    outbox_retention_days: int = 7
    inbox_retention_days: int = 120
    timer_retention_days: int = 30
    housekeeping_interval_seconds: float = 3600.0
    # Follows OTEL_EXPORTER_OTLP_ENDPOINT when set; otherwise spans go to var_dir/traces.
    otel_exporter_otlp_endpoint: str = Field(default="", validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url.replace("{service}", self.service)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service + '.db')}"


    def auth_config_error(self) -> str | None:
        """Why this configuration must not serve requests, or None when it may."""
        if self.jwt_jwks_url or self.dev_mode:
            return None
        if self.jwt_algorithm not in ("HS256", "HS384", "HS512"):
            return f"PM_JWT_ALGORITHM {self.jwt_algorithm!r}: a shared secret signs with HS256, HS384 or HS512"
        if not self.jwt_secret or self.jwt_secret == DEV_JWT_SECRET:
            return ("PM_JWT_SECRET is unset (or the well-known development default): set PM_JWT_SECRET to a "
                    "secret of at least 32 bytes or PM_JWT_JWKS_URL to the identity provider's keys; "
                    "PM_DEV_MODE=1 allows the default for local development only")
        if len(self.jwt_secret.encode()) < 32:
            return "PM_JWT_SECRET is shorter than 32 bytes: HS256 needs a secret of at least 32 bytes"
        return None


def load_settings(service: str, **overrides: object) -> Settings:
    return Settings(service=service, **overrides)  # type: ignore[arg-type]
