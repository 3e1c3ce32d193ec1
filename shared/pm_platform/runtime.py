"""A service's runtime: settings, contracts, database, NATS, the outbox relay and the consumers.

The runtime assembles a service's parts (``pm_platform.parts.ServiceParts``: settings, catalog, tables,
engine, sessionmaker) and hands them to the mechanisms (unit of work, consumers, relay, timers,
housekeeping), which depend on those parts and never on the runtime. NATS is FastStream's broker
(``pm_platform.broker.ServiceBroker``): its subscribers are the service's durable consumers, and the outbox
relay publishes on its connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from faststream.nats import NatsBroker
from nats.aio.client import Client
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pm_platform import bus
from pm_platform.broker import ServiceBroker
from pm_platform.consumer import ConsumerRunner
from pm_platform.contracts import Catalog, load_catalog
from pm_platform.db import PlatformTables, create_engine, sessionmaker
from pm_platform.housekeeping import housekeeping_job
from pm_platform.outbox import OutboxRelay
from pm_platform.settings import Settings
from pm_platform.subscriptions import Subscriptions
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
        self.broker: NatsBroker | None = None
        self.nc: Client | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        # Periodic jobs of the service (timers), started with the runtime.
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self)

    async def start(self, *, relay: bool = True, consumers: bool = True) -> None:
        self.broker = ServiceBroker(
            self.settings.nats_url,
            name=self.settings.service,
            user=self.settings.nats_user,
            password=self.settings.nats_password,
        )
        if consumers:
            for definition in self.topology.consumers_of(self.settings.service):
                runner = ConsumerRunner(self, definition.stream, definition.durable, self.subscriptions.handlers)
                runner.subscribe(self.broker, definition.filter_subjects)
                self.consumers.append(runner)
        self.nc = await self.broker.connect()
        if relay:
            self.relay = OutboxRelay(self, self.nc.jetstream())
            self._spawn(self.relay.run(), "outbox-relay")
        await self.broker.start()  # starts the subscribers
        for job in [*self.background, housekeeping_job(self)]:
            self._spawn(job(), job.__name__)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(_log_task_end)
        self._tasks.append(task)

    async def stop(self) -> None:
        # The subscribers' fetch loops stop with our own tasks, before the broker drains the connection.
        subscriber_tasks = [task for runner in self.consumers if runner.subscriber for task in runner.subscriber.tasks]
        await _cancel_until_done([*self._tasks, *subscriber_tasks])
        self._tasks.clear()
        self.consumers.clear()
        if self.broker is not None:
            try:
                await self.broker.stop()  # unsubscribes; drains what is buffered (acks), 2 s at most
            except Exception as exc:
                log.warning("%s: stopping the broker: %r", self.settings.service, exc)
            self.broker = None
        if self.nc is not None and not self.nc.is_closed:
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


async def _cancel_until_done(tasks: list[asyncio.Task[Any]]) -> None:
    # Cancelled again until done: on Python 3.11 asyncio.wait_for (inside nats-py's fetch) can swallow a
    # cancellation that arrives as its inner future completes, and the loop would run on for ever.
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)


def _log_task_end(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task %s ended: %r", task.get_name(), exc)
