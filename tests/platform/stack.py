"""Every service in one process on a real nats-server: provisioned streams and durables, migrated and seeded
databases (SQLite or PostgreSQL), each runtime started with its outbox relay and all its consumers.

The stack runs on an event loop of its own thread, so a synchronous test (a hypothesis ``@given``) can drive
it example after example without restarting it: ``stack.run(coroutine)``.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from pm_platform import bus, migrations
from pm_platform.db import READ_ONLY
from pm_platform.natsserver import NatsServer
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from tests.platform.harness import provision

SERVICES = ("intake", "dispatch", "billing", "survey", "notification")
T = TypeVar("T")


class Stack:
    def __init__(self, base: Path, database_urls: dict[str, str], **settings: Any) -> None:
        self.base = base
        self.database_urls = database_urls
        self.settings = settings
        self.nats = NatsServer(base / "nats")
        self.runtimes: dict[str, Runtime] = {}
        self.broadcast_id = ""  # a broadcast a test created, if any
        self.topology = bus.load_topology(REPO_ROOT / "deploy")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stack", daemon=True)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start(self) -> Stack:
        self.nats.start()
        self.thread.start()
        self.run(self._start(), timeout=240)
        return self

    def stop(self) -> None:
        try:
            if self.thread.is_alive():
                self.run(self._stop(), timeout=60)
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(timeout=10)
        finally:
            self.nats.stop()

    async def _start(self) -> None:
        await provision(self.nats.url)
        for service in SERVICES:
            settings = Settings(
                service=service,
                var_dir=self.base / service,
                database_url=self.database_urls[service],
                nats_url=self.nats.url,
                relay_idle_seconds=0.05,
                **self.settings,
            )
            await asyncio.to_thread(migrations.upgrade, service, settings)
            runtime = _build_runtime(service, settings)
            await importlib.import_module(f"{service}.seed").seed(runtime)
            self.runtimes[service] = runtime
        for runtime in self.runtimes.values():
            await runtime.start()

    async def _stop(self) -> None:
        results = await asyncio.gather(
            *(asyncio.wait_for(r.stop(), 30) for r in self.runtimes.values()), return_exceptions=True
        )
        failed = {
            service: f"{result!r}; still running: {_stuck(runtime)}"
            for (service, runtime), result in zip(self.runtimes.items(), results, strict=True)
            if isinstance(result, BaseException)
        }
        assert not failed, f"runtimes did not stop: {failed}"

    def runtime_of(self, durable: str) -> Runtime:
        [definition] = [c for c in self.topology.consumers if c.durable == durable]
        return self.runtimes[definition.service]

    async def rows(self, service: str, table_name: str) -> list[dict[str, Any]]:
        runtime = self.runtimes[service]
        table = getattr(runtime.tables, table_name)
        async with runtime.sessionmaker() as session:
            # Read-only: on SQLite a plain session would BEGIN IMMEDIATE and queue behind the consumers' writes.
            await session.connection(execution_options=READ_ONLY)
            return [dict(row) for row in (await session.execute(select(table))).mappings().all()]


def _build_runtime(service: str, settings: Settings) -> Runtime:
    if service == "notification":
        from notification.config import NotificationSettings
        from notification.main import build_runtime

        return build_runtime(settings=settings, config=NotificationSettings(send_idle_seconds=0.05))
    database = importlib.import_module(f"{service}.database")
    main = importlib.import_module(f"{service}.main")
    return Runtime(settings, database.Base.metadata, database.platform_tables, main.subscriptions)


def _stuck(runtime: Runtime) -> list[str]:
    stuck = []
    for task in runtime._tasks:
        if not task.done():
            frames = task.get_stack()
            where = f"{frames[-1].f_code.co_filename}:{frames[-1].f_lineno}" if frames else "?"
            stuck.append(f"{task.get_name()} at {where}")
    return stuck
