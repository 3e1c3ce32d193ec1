"""Intake's fixture: the app, migrated and seeded, over HTTP (no NATS: the runtime is not started)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from intake.main import create
from intake.seed import seed
from pm_platform import migrations
from pm_platform.settings import Settings
from tests.services.intake.helpers import clear_outbox, new_runtime


@pytest.fixture
async def intake(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="intake", var_dir=tmp_path, database_url=database_urls["intake"])
    await asyncio.to_thread(migrations.upgrade, "intake", settings)
    runtime = new_runtime(settings)
    await seed(runtime)
    await seed(runtime)  # idempotent
    await clear_outbox(runtime)  # the seed's upserts are checked in their own test
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()
