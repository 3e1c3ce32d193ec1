"""One hop of our platform in process: the provisioned durable consumer dispatch-from-intake feeds a Runtime
named "dispatch" whose handler writes one row and emits dispatch.workorder.created.v1 through the outbox.

Measured from ``runtime.start()`` until all N work-order events are in the DISPATCH stream and every outbox
row is marked published."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select

from pm_events.dispatch import WorkOrderCreated
from pm_events.intake import RequestCreated
from pm_platform import bus
from pm_platform.db import define_platform_tables, service_metadata
from pm_platform.envelope import Envelope, new_id, utcnow
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from pm_platform.subscriptions import Subscriptions
from pm_platform.uow import UnitOfWork
from tests.bench.common import intake_envelope, publish_all, wait_until

DEPARTMENT = "engineering"


@dataclass
class HopResult:
    events: int
    seconds: float
    done: int
    finished: bool
    cpu_seconds: float = 0.0  # this process's CPU time (all threads) in the same window

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_seconds / self.done * 1e6 if self.done else 0.0

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def bench_metadata() -> tuple[MetaData, Table]:
    metadata = service_metadata()
    orders = Table(
        "bench_work_orders",
        metadata,
        Column("id", String(64), primary_key=True),
        Column("request_id", String(64), nullable=False),
        Column("site", String(64), nullable=False),
        Column("department", String(64), nullable=False),
        Column("state", String(16), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    return metadata, orders


def make_subscriptions(orders: Table) -> Subscriptions:
    subscriptions = Subscriptions()

    @subscriptions.on(RequestCreated)
    async def on_request_created(event: RequestCreated, envelope: Envelope, uow: UnitOfWork) -> None:
        order_id = new_id()
        now = utcnow()
        await uow.session.execute(
            orders.insert().values(
                id=order_id,
                request_id=event.request_id,
                site=event.site,
                department=DEPARTMENT,
                state="created",
                created_at=now,
            )
        )
        uow.emit(
            WorkOrderCreated(
                work_order_id=order_id,
                request_id=event.request_id,
                site=event.site,
                department=DEPARTMENT,
                category=event.category,
                priority=event.priority,
                unit_id=event.unit_id,
                location=event.location,
                description=event.description,
                in_unit=event.in_unit,
                appointment=event.appointment.model_dump() if event.appointment else None,
                due_at=None,
                created_at=now.isoformat(),
            ),
            subject=order_id,
            site=event.site,
            department=DEPARTMENT,
            caused_by=envelope,
        )

    return subscriptions


async def platform_hop(
    nats_url: str,
    database_url: str,
    var_dir: Path,
    count: int,
    within: float,
    runtime_class: type[Runtime] = Runtime,
    **settings: Any,
) -> HopResult:
    """Preload ``count`` intake events into INTAKE, then run the dispatch runtime until they are relayed.

    ``runtime_class``: ``Runtime`` (consumers as FastStream subscribers) or the bench-only
    ``tests.bench.baseline.BaselineRuntime`` (the hand-written nats-py loop they replaced)."""
    nc = await bus.connect(nats_url, "bench-hop")
    try:
        await bus.provision(nc, bus.load_topology(REPO_ROOT / "deploy"))
        envelopes = [intake_envelope() for _ in range(count)]
        await publish_all(nc, [(e.nats_subject, e.to_json(), e.id) for e in envelopes])
        js = nc.jetstream()

        metadata, orders = bench_metadata()
        tables = define_platform_tables(metadata)
        runtime = runtime_class(
            Settings(service="dispatch", var_dir=var_dir, database_url=database_url, nats_url=nats_url, **settings),
            metadata,
            tables,
            make_subscriptions(orders),
        )
        async with runtime.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)

        async def work_orders_stored() -> int:
            return int((await js.stream_info("DISPATCH")).state.messages)

        async def all_published() -> bool:
            if await work_orders_stored() < count:
                return False
            async with runtime.sessionmaker() as session:
                published = await session.scalar(
                    select(func.count()).select_from(tables.outbox).where(tables.outbox.c.status == "published")
                )
            return int(published or 0) >= count

        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            await runtime.start()
            finished = await wait_until(all_published, within=within, interval=0.05)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        finally:
            await runtime.stop()
        done = min(count, await work_orders_stored())
        return HopResult(events=count, seconds=elapsed, done=done, finished=finished, cpu_seconds=cpu)
    finally:
        await nc.close()
