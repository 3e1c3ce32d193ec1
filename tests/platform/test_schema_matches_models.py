"""Each service's migrations build the schema its models describe, on SQLite and PostgreSQL: no column, type,
constraint or index that one has and the other lacks (a model edited without its migration fails here)."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pm_platform import migrations
from pm_platform.db import create_engine
from pm_platform.settings import Settings

SERVICES = ("intake", "dispatch", "billing", "survey", "notification")


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrated_schema_is_the_models_schema(
    service: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    url = database_urls[service]
    await asyncio.to_thread(migrations.upgrade, service, Settings(service=service, var_dir=tmp_path, database_url=url))
    metadata = importlib.import_module(f"{service}.database").Base.metadata
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            differences: list[Any] = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []
