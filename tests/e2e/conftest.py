"""The whole stack as real processes: nats-server from the bundled binary, the five services on free ports,
migrated and seeded with the demo group, on SQLite or on PostgreSQL. One stack per backend serves every
end-to-end test (each test works on its own unit and request)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pm_platform.auth import mint_token
from pm_platform.devstack import SERVICES, prepare, secure_nats, start_services, stop_all, wait_ready
from pm_platform.natsserver import NatsServer, free_port
from pm_platform.settings import REPO_ROOT, Settings
from tests.conftest import _create_database, _drop_database


class Stack:
    def __init__(
        self,
        var_dir: Any,
        ports: dict[str, int],
        settings: Settings,
        nats_url: str = "",
        nats_passwords: dict[str, str] | None = None,
    ) -> None:
        self.var_dir = var_dir
        self.ports = ports
        self.settings = settings
        self.nats_url = nats_url
        self.nats_passwords = nats_passwords or {}

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def token(
        self, subject: str, roles: list[str], sites: list[str], department: str | None = None, party: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(self.settings, subject, roles, sites, department, party)}


@pytest.fixture(scope="package", params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp(f"stack-{request.param}")
    env = dict(os.environ)
    if request.param == "postgres":
        admin = request.getfixturevalue("postgres_admin_url")
        prefix = f"pm_e2e_{uuid.uuid4().hex[:8]}"
        names = [f"{prefix}_{service}" for service in SERVICES]
        for name in names:
            asyncio.run(_create_database(admin, name))
        env["PM_DATABASE_URL"] = (
            admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{prefix}_{{service}}"
        )
        request.addfinalizer(lambda: [asyncio.run(_drop_database(admin, name)) for name in names])
    # As `make run` does: every client logs in with its own generated NATS user and permissions.
    (base / "var" / "nats").mkdir(parents=True)
    config, passwords = secure_nats(base / "var", REPO_ROOT / "deploy", REPO_ROOT / "contracts")
    nats = NatsServer(base / "nats", config_file=config, env=passwords).start()
    ports = {service: free_port() for service in SERVICES}
    env.update({"PM_VAR_DIR": str(base / "var"), "PM_NATS_URL": nats.url, "OTEL_BSP_SCHEDULE_DELAY": "100"})
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    for key in ("PM_NATS_USER", "PM_NATS_PASSWORD"):
        env.pop(key, None)
    processes: dict[str, Any] = {}
    try:
        prepare(env, ports, passwords=passwords)
        processes = start_services(env, base / "logs", ports, passwords=passwords)
        ready = wait_ready(ports, timeout=60)
        assert all(ready.values()), f"not ready: {ready}; logs in {base / 'logs'}"
        yield Stack(base / "var", ports, Settings(service="test"), nats.url, passwords)
    finally:
        stop_all(processes)
        nats.stop()


def eventually(fetch: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("not reached within the time limit")
        time.sleep(0.2)


def items(body: Any) -> list[dict[str, Any]]:
    return body["items"] if isinstance(body, dict) else body
