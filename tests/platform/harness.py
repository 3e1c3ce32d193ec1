"""Probe services for testing the platform's guarantees on a real nats-server and real databases.

A producer runtime (named ``intake``) writes ``intake.request.created.v1`` events through its outbox;
consumer runtimes (named ``dispatch`` and ``notification``, so they bind to the provisioned durable
consumers on the INTAKE stream) record one effect row per handled event, without any uniqueness
constraint, so a double effect shows up as two rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from pm_events.intake import RequestCreated
from pm_platform import bus
from pm_platform.db import BigId, define_platform_tables, service_metadata
from pm_platform.envelope import Envelope, new_id
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork

EXAMPLE = json.loads((REPO_ROOT / "contracts/examples/intake.request.created.v1.json").read_text())
EVENT_TYPE = "intake.request.created.v1"


def probe_metadata() -> tuple[MetaData, Table]:
    metadata = service_metadata()
    effects = Table(
        "effects",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("request_id", String(64), nullable=False),
        Column("attempt", Integer, nullable=False, default=1),
    )
    return metadata, effects


class Probe:
    """One runtime with an effects table and a handler whose behaviour a test can change."""

    def __init__(self, service: str, database_url: str, nats_url: str, var_dir: Path, **settings: Any) -> None:
        self.metadata, self.effects = probe_metadata()
        self.tables = define_platform_tables(self.metadata)
        self.subscriptions = Subscriptions()
        self.deliveries: list[tuple[str, float]] = []
        # Raise from here to make the handler fail (before its effect is committed).
        self.fail: Callable[[Envelope], Awaitable[None]] | None = None
        self.subscriptions.handlers[EVENT_TYPE] = self._handle
        self.settings = Settings(
            service=service,
            database_url=database_url,
            nats_url=nats_url,
            var_dir=var_dir,
            consumer_retry_base_seconds=0.2,
            relay_idle_seconds=0.05,
            **settings,
        )
        self.runtime = self._new_runtime()

    def _new_runtime(self) -> Runtime:
        return Runtime(self.settings, self.metadata, self.tables, self.subscriptions)

    async def _handle(self, event: Envelope, uow: UnitOfWork) -> None:
        self.deliveries.append((event.id, time.monotonic()))
        if self.fail is not None:
            await self.fail(event)
        await uow.session.execute(self.effects.insert().values(event_id=event.id, request_id=event.data["request_id"]))

    async def create_schema(self) -> None:
        async with self.runtime.engine.begin() as connection:
            await connection.run_sync(self.metadata.create_all)

    async def restart(self, **start: bool) -> None:
        """A new process in effect: new connection, new relay and consumers, same database."""
        await self.runtime.stop()
        self.runtime = self._new_runtime()
        await self.runtime.start(**start)

    async def emit_requests(self, count: int, per_transaction: int = 1) -> list[str]:
        ids = []
        for start in range(0, count, per_transaction):
            async with self.runtime.uow() as uow:
                for _ in range(min(per_transaction, count - start)):
                    request_id = new_id()
                    uow.emit(
                        RequestCreated.model_validate({**EXAMPLE, "request_id": request_id}),
                        subject=request_id,
                        site="harbour",
                        correlation_id=request_id,
                    )
                    ids.append(request_id)
                await uow.commit()
        return ids

    async def effect_counts(self) -> tuple[int, int]:
        """(rows, distinct events) in the effects table."""
        async with self.runtime.sessionmaker() as session:
            rows = await session.scalar(select(func.count()).select_from(self.effects))
            distinct = await session.scalar(select(func.count(func.distinct(self.effects.c.event_id))))
        return int(rows or 0), int(distinct or 0)

    async def rows(self, table: Table) -> list[dict[str, Any]]:
        async with self.runtime.sessionmaker() as session:
            return [dict(r) for r in (await session.execute(select(table))).mappings().all()]


async def provision(nats_url: str, **consumer_overrides: Any) -> None:
    nc = await bus.connect(nats_url, "test-provision")
    try:
        await bus.provision(nc, bus.load_topology(REPO_ROOT / "deploy"), **consumer_overrides)
    finally:
        await nc.close()


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 30.0,  # noqa: ASYNC109
    interval: float = 0.1,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


def bad_envelope(**data_overrides: Any) -> dict[str, Any]:
    """A well-formed envelope around data that may break the contract."""
    request_id = new_id()
    data = {**EXAMPLE, "request_id": request_id, **data_overrides}
    return {
        "specversion": "1.0",
        "id": new_id(),
        "source": "pm/intake",
        "type": EVENT_TYPE,
        "subject": request_id,
        "time": "2026-11-23T08:00:00+00:00",
        "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{EVENT_TYPE}",
        "site": "harbour",
        "correlationid": request_id,
        "data": {k: v for k, v in data.items() if v is not None or k not in data_overrides},
    }


async def publish_bad_envelopes(nats_url: str, subject: str, count: int) -> None:
    """``count`` envelopes published straight to JetStream (no outbox): a backlog for a consumer nobody runs."""
    nc = await bus.connect(nats_url, "test-publisher")
    try:
        for _ in range(count):
            await nc.jetstream().publish(subject, json.dumps(bad_envelope()).encode())
    finally:
        await nc.close()


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real HTTP port in this event loop (the runtime is started by the test, not the lifespan)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        return server.started

    try:
        await eventually(started, timeout=10, interval=0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
