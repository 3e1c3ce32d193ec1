"""The outbox keeps the whole W3C trace context: ``tracestate`` and ``baggage`` along with ``traceparent``
reach the consumer's handler, on a real nats-server and real databases (SQLite and PostgreSQL). And every
service's migrations give the outbox, timers and request_traces tables the platform writes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from opentelemetry import baggage, trace
from opentelemetry.context import Context
from opentelemetry.propagate import extract
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from pm_platform import migrations
from pm_platform.db import define_platform_tables, service_metadata
from pm_platform.envelope import Envelope
from pm_platform.natsserver import NatsServer
from pm_platform.settings import Settings
from pm_platform.telemetry import attached
from tests.platform.harness import Probe, eventually, provision

pytestmark = pytest.mark.timeout(120)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
TRACESTATE = "pm=site.harbour,congo=t61rcWkgMzE"
BAGGAGE = {"pm.channel": "phone", "pm.tenant": "evergreen"}
SERVICES = ["intake", "dispatch", "billing", "survey", "notification"]


def incoming_context() -> Context:
    """What an HTTP request from a traced caller brings in: all three headers."""
    return extract(
        {
            "traceparent": TRACEPARENT,
            "tracestate": TRACESTATE,
            "baggage": ",".join(f"{key}={value}" for key, value in BAGGAGE.items()),
        }
    )


async def test_tracestate_and_baggage_reach_the_consumer(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> None:
    await provision(nats_server.url)
    producer = Probe("intake", database_urls["producer"], nats_server.url, tmp_path / "intake")
    consumer = Probe("dispatch", database_urls["probe"], nats_server.url, tmp_path / "dispatch")
    seen: dict[str, dict[str, Any]] = {}

    async def record(event: Envelope) -> None:
        span_context = trace.get_current_span().get_span_context()
        seen[event.data["request_id"]] = {
            "trace_id": format(span_context.trace_id, "032x"),
            "tracestate": span_context.trace_state.to_header(),
            "baggage": dict(baggage.get_all()),
        }

    consumer.fail = record
    try:
        for probe in (producer, consumer):
            await probe.create_schema()
        await producer.runtime.start(consumers=False)

        async def emit(count: int) -> list[str]:
            with attached(incoming_context()):
                return await producer.emit_requests(count, per_transaction=count)

        async def published() -> bool:
            return all(row["status"] == "published" for row in await producer.rows(producer.tables.outbox))

        # One event alone, then three fetched as one batch: both of the consumer's paths.
        first = await emit(1)
        await consumer.runtime.start(relay=False)
        await eventually(lambda: _true_when(set(first) <= set(seen)))
        await consumer.runtime.stop()
        batch = await emit(3)
        await eventually(published)
        await consumer.restart(relay=False)
        await eventually(lambda: _true_when(set(batch) <= set(seen)))

        rows = await producer.rows(producer.tables.outbox)
        assert [(row["traceparent"][:35], row["tracestate"]) for row in rows] == [(TRACEPARENT[:35], TRACESTATE)] * 4
        assert all(row["baggage"] for row in rows)
        for request_id in first + batch:
            assert seen[request_id] == {"trace_id": TRACE_ID, "tracestate": TRACESTATE, "baggage": BAGGAGE}
    finally:
        await producer.runtime.stop()
        await consumer.runtime.stop()


async def test_without_a_trace_context_the_columns_stay_empty(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> None:
    await provision(nats_server.url)
    producer = Probe("intake", database_urls["producer"], nats_server.url, tmp_path / "intake")
    try:
        await producer.create_schema()
        await producer.runtime.start(consumers=False)
        await producer.emit_requests(1)
        [row] = await producer.rows(producer.tables.outbox)
        assert (row["tracestate"], row["baggage"]) == (None, None)
    finally:
        await producer.runtime.stop()


def _traced_table(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in ("outbox", "timers", "request_traces")


def _traced_differences(connection: Any) -> list[Any]:
    expected = service_metadata()
    define_platform_tables(expected)
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": _traced_table,
        },
    )
    return list(compare_metadata(context, expected))


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_give_the_platform_tables_their_trace_columns(
    service: str, database_urls: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(service=service, database_url=database_urls[service], var_dir=tmp_path)
    # Alembic runs its own event loop: off this one.
    await asyncio.to_thread(migrations.upgrade, service, settings)
    engine = create_async_engine(settings.resolved_database_url())
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {t: {c["name"] for c in inspect(sync).get_columns(t)} for t in ("outbox", "timers")}
            )
            differences = await connection.run_sync(_traced_differences)
    finally:
        await engine.dispose()
    assert {"traceparent", "tracestate", "baggage"} <= columns["outbox"]
    assert {"traceparent", "tracestate", "baggage"} <= columns["timers"]  # a timer fires in the trace that set it
    assert differences == []  # request_traces too: the trace each correlation lives in


async def _true_when(value: bool) -> bool:
    return value
