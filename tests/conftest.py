"""Fixtures on real components: a nats-server from the bundled binary, SQLite files and PostgreSQL.

PostgreSQL comes from PM_TEST_POSTGRES_URL (CI and this machine); a URL that is set but unreachable
fails the tests that need it. With no URL, testcontainers provides one where a Docker engine runs;
with neither, those tests skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from pm_platform.natsserver import NatsServer

POSTGRES_ENV = "PM_TEST_POSTGRES_URL"


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "nats").start()
    try:
        yield server
    finally:
        server.stop()


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
    if _docker_available():
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-not-found]

        with PostgresContainer("postgres:16") as container:
            yield container.get_connection_url(driver=None)
        return
    pytest.skip(f"PostgreSQL tests skipped: {POSTGRES_ENV} is not set and no Docker engine is running")


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




@pytest.fixture(params=["sqlite", "postgres"])
async def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """``urls[service]``: a fresh database per service on the backend under test (SQLite, PostgreSQL)."""
    created: list[str] = []
    urls: dict[str, str] = {}
    if request.param == "sqlite":
        for service in ("intake", "dispatch", "billing", "survey", "notification", "probe", "producer"):
            urls[service] = f"sqlite+aiosqlite:///{tmp_path / (service + '.db')}"
        yield urls
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    base = admin_url.rsplit("/", 1)[0]
    suffix = uuid.uuid4().hex[:8]
    for service in ("intake", "dispatch", "billing", "survey", "notification", "probe", "producer"):
        name = f"pm_test_{service}_{suffix}"
        await _create_database(admin_url, name)
        created.append(name)
        urls[service] = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    try:
        yield urls
    finally:
        for name in created:
            await _drop_database(admin_url, name)
