"""Settings read from the environment (prefix ``PM_``); embedded defaults need no system services."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


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
    # This process's NATS login (pm_platform.natsauth); empty for a server without authorization.
    nats_user: str = ""
    nats_password: str = ""
    jwt_secret: str = "dev-secret-change-me-0123456789abcdef"
    jwt_algorithm: str = "HS256"
    jwt_jwks_url: str = ""
    jwt_audience: str = ""
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


def load_settings(service: str, **overrides: object) -> Settings:
    return Settings(service=service, **overrides)  # type: ignore[arg-type]
