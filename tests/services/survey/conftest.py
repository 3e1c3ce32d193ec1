"""Survey's fixture: the app, migrated, over HTTP (no NATS: the runtime is not started)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from pm_platform import migrations
from pm_platform.runtime import Runtime
from survey.database import Base, platform_tables
from survey.main import create, subscriptions
from tests.services.survey.helpers import _settings


@pytest.fixture
async def survey(database_urls: dict[str, str], tmp_path: Path):
    settings = _settings(database_urls["survey"], tmp_path)
    await asyncio.to_thread(migrations.upgrade, "survey", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()
