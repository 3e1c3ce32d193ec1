"""Billing's fixtures: the app, migrated (and seeded), and a fixed issue day."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from pathlib import Path

import httpx
import pytest

from billing.account import service as account_service
from billing.bill import service as bill_service
from billing.database import Base, platform_tables
from billing.deposit import service as deposit_service
from billing.directory import service as directory_service
from billing.dunning import service as dunning_service
from billing.fee import service as fee_service
from billing.latefee import service as latefee_service
from billing.main import create, subscriptions
from billing.occupancy import service as occupancy_service
from billing.period import service as period_service
from billing.seed import seed
from billing.settlement import service as settlement_service
from pm_platform import migrations
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings


@pytest.fixture
async def billing(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="billing", var_dir=tmp_path, database_url=database_urls["billing"])
    await asyncio.to_thread(migrations.upgrade, "billing", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


@pytest.fixture
async def seeded(billing):
    runtime, client = billing
    await seed(runtime)
    await seed(runtime)  # idempotent
    return runtime, client


@pytest.fixture
def issue_day(monkeypatch: pytest.MonkeyPatch):
    """Pin billing's clock (issuing, the overdue check, the site's today) to a day, 09:00 UTC (17:00 in Shanghai): due
    dates depend on it."""

    def pin(day: date) -> None:
        at = datetime.combine(day, time(9), tzinfo=UTC)
        for module in (
            period_service,
            account_service,
            directory_service,
            bill_service,
            fee_service,
            latefee_service,
            dunning_service,
            occupancy_service,
            deposit_service,
            settlement_service,
        ):
            monkeypatch.setattr(module, "utcnow", lambda: at)

    return pin
