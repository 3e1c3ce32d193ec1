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
from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from nats.aio.client import Client
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pm_platform import bus
from pm_platform.advisories import AdvisoryRecorder
from pm_platform.broker import ServiceBroker
from pm_platform.consumer import ConsumerRunner
from pm_platform.contracts import Catalog, load_catalog
from pm_platform.db import READ_ONLY, PlatformTables, create_engine, sessionmaker
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
        self.advisories: AdvisoryRecorder | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connecting: asyncio.Task[None] | None = None
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
            advisories = self.topology.advisory_consumer_of(self.settings.service)
            if advisories is not None and self.consumers:
                self.advisories = AdvisoryRecorder(self, advisories)
                self.advisories.subscribe(self.broker)
        # nats-py's first connect retries for ever while the server is down: waited for briefly, then left to
        # finish in the background, so that a service started during an outage serves /healthz (and /readyz
        # 503) and becomes ready once NATS is back. A refused login still fails the start (it ends at once).
        connecting = asyncio.create_task(self._connect_and_start(relay), name="nats-connect")
        done, _ = await asyncio.wait({connecting}, timeout=self.settings.nats_connect_wait_seconds)
        if connecting in done:
            connecting.result()
        else:
            log.warning(
                "%s: NATS at %s is unreachable; serving while connecting in the background",
                self.settings.service,
                self.settings.nats_url,
            )
            connecting.add_done_callback(_log_task_end)
            self._connecting = connecting
        for job in [*self.background, housekeeping_job(self)]:
            self._spawn(job(), job.__name__)

    async def _connect_and_start(self, relay: bool) -> None:
        assert self.broker is not None
        self.nc = await self.broker.connect()
        if relay:
            self.relay = OutboxRelay(self, self.nc.jetstream())
            self._spawn(self.relay.run(), "outbox-relay")
        await self.broker.start()  # starts the subscribers

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(_log_task_end)
        self._tasks.append(task)

    async def stop(self) -> None:
        # The subscribers' fetch loops stop with our own tasks, before the broker drains the connection.
        subscribers = [runner.subscriber for runner in self.consumers]
        subscribers.append(self.advisories.subscriber if self.advisories else None)
        subscriber_tasks = [task for subscriber in subscribers if subscriber for task in subscriber.tasks]
        connecting = [self._connecting] if self._connecting is not None else []
        self._connecting = None
        await _cancel_until_done([*connecting, *self._tasks, *subscriber_tasks])
        self._tasks.clear()
        self.consumers.clear()
        self.advisories = None
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
        return (await self.readiness_report()).checks

    async def readiness_report(self) -> Readiness:
        """Each check and, for a failed one, why. Quick by design: the NATS check reads the connection's state
        (no round trip), the consumers are asked only while connected, and every wait is bounded."""
        reasons: dict[str, str] = {}
        database, nats_problem, consumer_problems = await asyncio.gather(
            self._database_problem(), self._nats_problem(), self._consumer_problems()
        )
        if database:
            reasons["database"] = database
        if nats_problem:
            reasons["nats"] = nats_problem
        if consumer_problems:
            reasons["consumers"] = "; ".join(f"{durable}: {problem}" for durable, problem in consumer_problems.items())
        ended = [task.get_name() for task in self._tasks if task.done()]
        if ended:
            reasons["tasks"] = "ended: " + ", ".join(ended)
        checks = {name: name not in reasons for name in ("database", "nats", "consumers", "tasks")}
        return Readiness(checks, reasons, consumer_problems)

    async def _database_problem(self) -> str | None:
        timeout = self.settings.ready_check_timeout_seconds

        async def ask() -> None:
            async with self.engine.connect() as connection:
                # Read-only: on SQLite a plain transaction begins IMMEDIATE and would queue behind every writer.
                connection = await connection.execution_options(**READ_ONLY)
                await connection.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(ask(), timeout)
        except TimeoutError:
            return f"no answer within {timeout} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return None

    async def _nats_problem(self) -> str | None:
        if self.nc is None:
            return "connecting"
        if self.nc.is_connected:
            return None
        if self.nc.is_closed:
            return "connection closed"
        return "disconnected, reconnecting"

    async def _consumer_problems(self) -> dict[str, str]:
        if not self.consumers:
            return {}
        if self.nc is None or not self.nc.is_connected:
            return {runner.durable: "NATS not connected" for runner in self.consumers}
        problems = await asyncio.gather(*(runner.readiness_problem() for runner in self.consumers))
        return {runner.durable: problem for runner, problem in zip(self.consumers, problems, strict=True) if problem}


@dataclass
class Readiness:
    checks: dict[str, bool]
    """Each check: database, nats, consumers, tasks."""
    reasons: dict[str, str]
    """Why each failed check failed."""
    consumers: dict[str, str]
    """Each durable that is not ready, and why (stopped, not provisioned, fallen behind)."""

    @property
    def ready(self) -> bool:
        return all(self.checks.values())


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
