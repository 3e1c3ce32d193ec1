"""Notification's fixtures: a controllable clock, the app, migrated and seeded, and fake SMS gateways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from notification.broadcast import service as broadcast_service
from notification.main import create
from notification.message import sender as sender_module
from notification.message import service as message_service
from tests.services.notification.helpers import Clock, Gateway, make_runtime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (message_service, sender_module, broadcast_service):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


@pytest.fixture
async def notification(database_urls: dict[str, str], tmp_path: Path, clock: Clock):
    runtime = await make_runtime(database_urls, tmp_path)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


@pytest.fixture
def gateway_factory() -> Iterator[Any]:
    made: list[Gateway] = []

    def make(failures: int, status: int = 503, delivered: bool = False) -> Gateway:
        made.append(Gateway(failures, status, delivered))
        return made[-1]

    yield make
    for gateway in made:
        gateway.close()
