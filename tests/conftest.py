"""Fixtures on real components: a nats-server from the bundled binary, SQLite files and PostgreSQL.

PostgreSQL comes from PM_TEST_POSTGRES_URL (CI and this machine); a URL that is set but unreachable
fails the tests that need it. With no URL, testcontainers provides one where a Docker engine runs;
with neither, those tests skip and say why.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from pm_platform.natsserver import NatsServer, free_port
from tests.s3 import s3_client

POSTGRES_ENV = "PM_TEST_POSTGRES_URL"
# The server every session and CI has running (trust auth): used when the variable is not set.
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

# Tests run outside development mode, with a real secret of their own (inherited by the service processes
# the e2e tests start), so the refusal of the well-known default secret holds for them too.
os.environ.setdefault("PM_JWT_SECRET", "test-secret-" + uuid.uuid4().hex)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a local S3 server (moto's, in a process of its own on a free port)."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto-server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=1)  # any answer: it listens
                break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto's S3 server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_settings(s3_server: str) -> dict[str, str]:
    """Settings of a file store in a fresh bucket of the local S3 server (``Settings(**s3_settings)``)."""
    bucket = f"pm-test-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server).create_bucket(Bucket=bucket)
    return {
        "files_s3_bucket": bucket,
        "files_s3_endpoint_url": s3_server,
        "files_s3_access_key_id": "test",
        "files_s3_secret_access_key": "test-secret",
    }


def _docker_available() -> bool:
    try:
        import docker  # type: ignore[import-not-found]

        docker.from_env().ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A plain ``postgresql://`` URL of a server the tests may create databases on."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        yield url
        return
    if _postgres_answers(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    if _docker_available():
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-not-found]

        with PostgresContainer("postgres:16") as container:
            yield container.get_connection_url(driver=None)
        return
    # Never a skip: the PostgreSQL guarantees must run wherever the suite runs.
    pytest.fail(f"PostgreSQL is needed: set {POSTGRES_ENV}, run one on 127.0.0.1:5432, or start a Docker engine")


T = TypeVar("T")


def on_own_thread(function: Callable[..., T], *args: Any) -> T:
    """A blocking call that starts an event loop of its own (``asyncio.run``, Alembic) run on a thread of its
    own: the caller may be inside a running loop (an async test's, or the Playwright sync API's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _postgres_answers(url: str) -> bool:
    async def probe() -> None:
        connection = await asyncpg.connect(url, timeout=3)
        await connection.close()

    try:
        on_own_thread(asyncio.run, probe())
    except Exception:
        return False
    return True


async def _create_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


SERVICE_DATABASES = ("intake", "dispatch", "billing", "survey", "notification", "probe", "producer")


class PostgresDatabases(dict[str, str]):
    """``urls[service]`` on PostgreSQL, each database created when a test first asks for it: a test that
    uses one service pays for one CREATE DATABASE, not seven."""

    def __init__(self, admin_url: str) -> None:
        super().__init__()
        self.admin_url = admin_url
        self.base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        self.suffix = uuid.uuid4().hex[:8]
        self.created: list[str] = []

    def __missing__(self, service: str) -> str:
        if service not in SERVICE_DATABASES:
            raise KeyError(service)
        name = f"pm_test_{service}_{self.suffix}"
        on_own_thread(asyncio.run, _create_database(self.admin_url, name))
        self.created.append(name)
        self[service] = url = f"{self.base}/{name}"
        return url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """``urls[service]``: a fresh database per service on the backend under test (SQLite, PostgreSQL)."""
    if request.param == "sqlite":
        yield {service: f"sqlite+aiosqlite:///{tmp_path / (service + '.db')}" for service in SERVICE_DATABASES}
        return
    urls = PostgresDatabases(request.getfixturevalue("postgres_admin_url"))
    try:
        yield urls
    finally:
        for name in urls.created:
            await _drop_database(urls.admin_url, name)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The suite runs on several workers (pytest-xdist): the tests that share one stack of processes (the console's
    tests, the end-to-end tests per backend) go to one worker as one unit, so each stack starts once; every other
    test is a unit of its own. (xdist's own ``--dist loadgroup`` cannot mark the groups under pytest 9.2, whose
    node ids it can no longer rewrite.)"""
    from xdist.scheduler import LoadScopeScheduling

    class StackScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return stack_group(nodeid) or nodeid

    return StackScheduling(config, log)


def stack_group(nodeid: str) -> str | None:
    """The stack a test runs on (tests/console/conftest.py, tests/e2e/conftest.py), or None."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/console/"):
        return "console"
    if path.startswith("tests/e2e/"):
        return "e2e-postgres" if nodeid.endswith("[postgres]") else "e2e-sqlite"
    return None
