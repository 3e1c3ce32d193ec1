"""A service's runtime: settings, contracts, database, NATS, the outbox relay and the consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from nats.aio.client import Client
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pm_platform import bus
from pm_platform.consumer import ConsumerRunner, Subscriptions
from pm_platform.contracts import Catalog, load_catalog
from pm_platform.db import PlatformTables, create_engine, sessionmaker
from pm_platform.housekeeping import housekeeping_job
from pm_platform.outbox import OutboxRelay
from pm_platform.settings import Settings
from pm_platform.uow import UnitOfWork

log = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self, settings: Settings, metadata: MetaData, tables: PlatformTables, subscriptions: Subscriptions | None = None
    ) -> None:
        self.settings = settings
        self.metadata = metadata
        self.tables = tables
        self.subscriptions = subscriptions or Subscriptions()
        self.catalog: Catalog = load_catalog(settings.contracts_dir)
        self.topology = bus.load_topology(settings.deploy_dir)
        self.engine: AsyncEngine = create_engine(settings.resolved_database_url())
        self.sessionmaker: async_sessionmaker[AsyncSession] = sessionmaker(self.engine)
        self.outbox_written = asyncio.Event()
        self.nc: Client | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        # Periodic jobs of the service (timers), started with the runtime.
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self)

    async def start(self, *, relay: bool = True, consumers: bool = True) -> None:
        self.nc = await bus.connect(
            self.settings.nats_url,
            name=self.settings.service,
            user=self.settings.nats_user,
            password=self.settings.nats_password,
        )
        js = self.nc.jetstream()
        if relay:
            self.relay = OutboxRelay(self, js)
            self._spawn(self.relay.run(), "outbox-relay")
        if consumers:
            for definition in self.topology.consumers_of(self.settings.service):
                runner = ConsumerRunner(self, js, definition.stream, definition.durable, self.subscriptions.handlers)
                self.consumers.append(runner)
                self._spawn(runner.run(), definition.durable)
        for job in [*self.background, housekeeping_job(self)]:
            self._spawn(job(), job.__name__)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(_log_task_end)
        self._tasks.append(task)

    async def stop(self) -> None:
        # Cancelled again until done: on Python 3.11 asyncio.wait_for (inside nats-py's fetch) can swallow a
        # cancellation that arrives as its inner future completes, and the loop would run on for ever.
        pending = set(self._tasks)
        while pending:
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        self._tasks.clear()
        self.consumers.clear()
        if self.nc is not None and not self.nc.is_closed:
            # The loops are stopped, so there is nothing to drain: send what is buffered (acks) and close.
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=2)
            await self.nc.close()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, bool]:
        database = True
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            database = False
        return {
            "database": database,
            "nats": bool(self.nc and self.nc.is_connected),
            "consumers": all([await c.is_ready() for c in self.consumers]),
            "tasks": all(not t.done() for t in self._tasks),
        }


def _log_task_end(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task %s ended: %r", task.get_name(), exc)
