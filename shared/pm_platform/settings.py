"""Settings read from the environment (prefix ``PM_``); embedded defaults need no system services."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
# The well-known development secret: accepted only in development mode (``PM_DEV_MODE``, set by ``make run``).
DEV_JWT_SECRET = "dev-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    # Each field's docstring is its description in docs/settings.md (python -m pm_platform.settings_doc);
    # errors do not echo the input, which holds secrets.
    model_config = SettingsConfigDict(
        env_prefix="PM_", extra="ignore", use_attribute_docstrings=True, hide_input_in_errors=True
    )

    service: str = "unknown"
    """The service's name; each service process sets it itself (not read from the environment)."""
    var_dir: Path = REPO_ROOT / "var"
    """Where a service keeps its state: SQLite files, traces, the notification sink."""
    contracts_dir: Path = REPO_ROOT / "contracts"
    """The event contracts (catalog.yaml and JSON Schemas); the image sets /app/contracts."""
    deploy_dir: Path = REPO_ROOT / "deploy"
    """Stream and consumer definitions (nats/jetstream.yaml) and demo.yaml; the image sets /app/deploy."""
    # Empty means a SQLite file per service under var_dir; ``{service}`` in the URL is replaced by the
    # service name, so one setting gives each service its own database.
    # Secret: a PostgreSQL URL carries its password.
    database_url: str = Field(default="", json_schema_extra={"secret": True})
    """SQLAlchemy async URL; `{service}` becomes the service name. Empty: SQLite under PM_VAR_DIR."""
    nats_url: str = "nats://127.0.0.1:4333"
    """The NATS server with JetStream."""
    # This process's NATS login (pm_platform.natsauth); empty for a server without authorization.
    nats_user: str = ""
    """This process's NATS user (`make run` and compose set one per service); empty: no login."""
    nats_password: str = ""
    """The NATS user's password (generated into var/nats/credentials.env by `pm nats-credentials`)."""
    jwt_secret: str = DEV_JWT_SECRET
    """HS256 signing key for bearer tokens (at least 32 bytes); unused when PM_JWT_JWKS_URL is set. Outside
    PM_DEV_MODE a service refuses to start with the development default."""
    jwt_algorithm: str = "HS256"
    """Algorithm for tokens checked with PM_JWT_SECRET."""
    jwt_jwks_url: str = ""
    """The identity provider's JWKS URL: tokens are then RS256 against its keys (production)."""
    jwt_audience: str = ""
    """Required `aud` claim of tokens; empty: not checked."""
    jwt_issuer: str = ""
    """Required `iss` claim of tokens; empty: not checked."""
    jwt_max_lifetime_seconds: int = 24 * 3600
    """Longest accepted token lifetime (`exp - iat`); tokens without `exp` are refused."""
    dev_mode: bool = False
    """Development mode (`make run` sets it): the well-known default JWT secret is accepted. Outside it a
    service refuses to start without a real secret or a JWKS URL."""
    # Consumer behaviour: attempts before a transient failure becomes a dead letter, and the retry delays.
    consumer_max_attempts: int = 8
    """Deliveries of an event before a transient failure becomes a dead letter."""
    consumer_retry_base_seconds: float = 0.5
    """First retry delay of a failed event; it doubles per delivery."""
    consumer_retry_max_seconds: float = 30.0
    """Longest retry delay of a failed event."""
    consumer_batch: int = 128
    """Events a consumer fetches from JetStream at once."""
    relay_batch: int = 256
    """Outbox rows the relay publishes per batch."""
    relay_idle_seconds: float = 0.2
    """How long an idle relay waits before polling the outbox again."""
    publish_timeout_seconds: float = 5.0
    """How long the relay waits for a PubAck before retrying the row."""
    # Load shedding at the door (pm_platform.admission): past these a request is answered 503 with Retry-After.
    http_max_in_flight: int = 8
    """Requests a service works on at once; more wait in its queue. Past a few, more at once only lengthens each:
    they share one CPU and, on SQLite, one writer."""
    http_max_queued: int = 32
    """Requests that may wait for a place; past this a request is answered 503 at once."""
    http_queue_timeout_seconds: float = 0.5
    """Longest wait in the queue; past it the request is answered 503 (Retry-After: this, rounded up)."""
    timer_poll_seconds: float = 1.0
    """How often due time-limit timers are looked for."""
    # Readiness (/readyz): every check is bounded so that an outage answers 503 quickly instead of hanging.
    ready_check_timeout_seconds: float = 0.5
    """Longest wait of one readiness check (the database query, a consumer's info); past it the check fails."""
    ready_max_pending: int = 10000
    """A durable consumer with more undelivered events than this makes /readyz answer 503 (fallen behind)."""
    nats_connect_wait_seconds: float = 2.0
    """How long a starting service waits for NATS before serving /healthz (and /readyz 503) while it keeps
    connecting in the background."""
    # Housekeeping: inbox retention must exceed the streams' max age (90 days) so replays stay deduplicated.
    outbox_retention_days: int = 7
    """Published outbox rows are deleted after this many days."""
    inbox_retention_days: int = 120
    """Inbox records (deduplication) are deleted after this many days; keep above the streams' 90."""
    timer_retention_days: int = 30
    """Fired or cancelled timers are deleted after this many days."""
    housekeeping_interval_seconds: float = 3600.0
    """How often the retention cleanup runs."""
    # Uploaded files (pm_platform.storage): under PM_VAR_DIR/<service>/ unless a bucket is named.
    files_s3_bucket: str = ""
    """The S3 bucket that keeps uploaded files (photos, plans, signed forms); empty: files under
    PM_VAR_DIR/<service>/."""
    files_s3_endpoint_url: str = ""
    """URL of an S3-compatible store (MinIO, Ceph, SeaweedFS...), addressed path-style; empty: AWS S3 in
    PM_FILES_S3_REGION."""
    files_s3_region: str = "us-east-1"
    """The bucket's region (the request signature names it)."""
    files_s3_access_key_id: str = Field(default="", json_schema_extra={"secret": True})
    """Access key of the file store; empty: the AWS default chain (AWS_* variables, a profile, an instance role)."""
    files_s3_secret_access_key: str = Field(default="", json_schema_extra={"secret": True})
    """Secret key going with PM_FILES_S3_ACCESS_KEY_ID."""
    files_s3_prefix: str = "{service}/"
    """Prefix of every object key; `{service}` becomes the service name, so the services may share one bucket."""
    files_s3_timeout_seconds: float = 10.0
    """Longest wait to connect to the file store, and for each read of its answer."""
    # Follows OTEL_EXPORTER_OTLP_ENDPOINT when set; otherwise spans go to var_dir/traces.
    otel_exporter_otlp_endpoint: str = Field(default="", validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    """OTLP/HTTP endpoint for spans (standard OpenTelemetry name); empty: JSON lines under PM_VAR_DIR/traces."""

    @model_validator(mode="after")
    def _jwt_secret_is_long_enough(self) -> Settings:
        # .env.example leaves PM_JWT_SECRET empty on purpose: an empty or short HS256 key is guessable, so a
        # service must not start with one.
        if not self.jwt_jwks_url and len(self.jwt_secret.encode()) < 32:
            raise ValueError("PM_JWT_SECRET must be at least 32 bytes (or set PM_JWT_JWKS_URL)")
        return self

    @model_validator(mode="after")
    def _file_store_is_whole(self) -> Settings:
        if bool(self.files_s3_access_key_id) != bool(self.files_s3_secret_access_key):
            raise ValueError(
                "PM_FILES_S3_ACCESS_KEY_ID and PM_FILES_S3_SECRET_ACCESS_KEY go together: set both or neither"
            )
        if self.files_s3_endpoint_url and not self.files_s3_bucket:
            raise ValueError("PM_FILES_S3_ENDPOINT_URL is set without PM_FILES_S3_BUCKET: name the bucket")
        return self

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
            return (
                "PM_JWT_SECRET is unset (or the well-known development default): set PM_JWT_SECRET to a "
                "secret of at least 32 bytes or PM_JWT_JWKS_URL to the identity provider's keys; "
                "PM_DEV_MODE=1 allows the default for local development only"
            )
        return None  # a secret under 32 bytes never gets this far: the validator above refuses it


def load_settings(service: str, **overrides: object) -> Settings:
    return Settings(service=service, **overrides)  # type: ignore[arg-type]
