"""Dispatch's fixture: the app, migrated and seeded, over HTTP (no NATS: the runtime is not started)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from dispatch.database import Base, platform_tables
from dispatch.department.models import Staff
from dispatch.main import create
from dispatch.seed import seed
from dispatch.workorder.handlers import subscriptions
from pm_platform import migrations
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings


@pytest.fixture
async def dispatch(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="dispatch", var_dir=tmp_path, database_url=database_urls["dispatch"])
    await asyncio.to_thread(migrations.upgrade, "dispatch", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    await seed(runtime)
    await seed(runtime)  # idempotent
    async with runtime.sessionmaker() as session:  # the workers these tests act as: on engineering's staff
        session.add_all(
            [
                Staff(
                    site="harbour",
                    id=member,
                    department_code="engineering",
                    name=member,
                    skills=[],
                    shifts=[],
                    active=True,
                )
                for member in ("eng-01", "eng-02")
            ]
        )
        await session.commit()
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()
