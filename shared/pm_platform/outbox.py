"""The outbox relay: publishes committed outbox rows to JetStream in commit order.

Each row goes out with ``Nats-Msg-Id`` = event id and the trace context of the transaction that wrote
it; a row is marked published only after its PubAck (a duplicate PubAck counts as success). A row that
fails is retried with a growing delay; the stream's duplicate window covers republishing a row whose
PubAck arrived but whose mark was lost.

The relay stays on nats-py's JetStream context (the service's one NATS connection, which FastStream's
broker opens): it pipelines a whole batch of publishes and then awaits their PubAcks together, with a
timeout each. FastStream's publisher awaits each PubAck before the next publish: about a quarter of the rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import select, update

from pm_platform.db import READ_ONLY
from pm_platform.envelope import utcnow
from pm_platform.telemetry import context_from_trace_fields, inject_headers, tracer

if TYPE_CHECKING:
    from pm_platform.parts import ServiceParts

log = logging.getLogger(__name__)

RETRY_MAX_SECONDS = 60.0


def retry_delay(attempts: int, base: float = 0.2, cap: float = RETRY_MAX_SECONDS) -> float:
    return float(min(cap, base * (2 ** max(0, attempts - 1))))


class OutboxRelay:
    def __init__(self, parts: ServiceParts, js: JetStreamContext) -> None:
        self.parts = parts
        self.js = js
        # Test hook: runs after the PubAcks and before the rows are marked (a crash there is survivable).
        self.after_publish: Callable[[list[str]], Awaitable[None]] | None = None
        self.published = 0

    async def run(self) -> None:
        settings = self.parts.settings
        while True:
            try:
                count = await self.publish_batch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay batch failed")
                count = 0
                await asyncio.sleep(1.0)
            if count == 0:
                self.parts.outbox_written.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.parts.outbox_written.wait(), settings.relay_idle_seconds)

    async def publish_batch(self) -> int:
        outbox = self.parts.tables.outbox
        settings = self.parts.settings
        # The poll is a short read (no write lock on SQLite) and not a span every relay_idle_seconds.
        with suppress_instrumentation():
            async with self.parts.engine.connect() as connection:
                connection = await connection.execution_options(**READ_ONLY)
                rows = (
                    await connection.execute(
                        select(
                            outbox.c.id,
                            outbox.c.event_id,
                            outbox.c.subject,
                            outbox.c.payload,
                            outbox.c.traceparent,
                            outbox.c.tracestate,
                            outbox.c.baggage,
                            outbox.c.attempts,
                        )
                        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= utcnow())
                        .order_by(outbox.c.id)
                        .limit(settings.relay_batch)
                    )
                ).all()
        if not rows:
            return 0

        # Publish the batch in order without waiting for each PubAck, then collect the PubAcks.
        spans = []
        futures: list[asyncio.Future[Any]] = []
        for row in rows:
            parent = context_from_trace_fields(row.traceparent, row.tracestate, row.baggage)
            span = tracer.start_span(
                f"publish {row.subject}",
                context=parent,
                kind=trace.SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.destination.name": row.subject,
                    "messaging.message.id": row.event_id,
                },
            )
            headers = {"Nats-Msg-Id": row.event_id}
            # The publish span inside the row's whole context, so tracestate and baggage go out with it.
            inject_headers(headers, trace.set_span_in_context(span, parent))
            spans.append(span)
            try:
                future = await self.js.publish_async(row.subject, row.payload.encode(), headers=headers)
            except Exception as exc:  # disconnected, or too many PubAcks outstanding
                future = asyncio.get_running_loop().create_future()
                future.set_exception(exc)
            futures.append(future)
        results = await asyncio.gather(
            *(asyncio.wait_for(f, settings.publish_timeout_seconds) for f in futures), return_exceptions=True
        )
        published_ids: list[int] = []
        failed: list[tuple[int, int, str]] = []
        for row, span, result in zip(rows, spans, results, strict=True):
            if isinstance(result, BaseException):
                span.record_exception(result)
                span.set_status(trace.StatusCode.ERROR, str(result))
                failed.append((row.id, row.attempts + 1, f"{type(result).__name__}: {result}"))
            else:
                published_ids.append(row.id)
                span.set_attribute("messaging.nats.duplicate", bool(getattr(result, "duplicate", False)))
            span.end()

        if self.after_publish is not None:
            await self.after_publish([r.event_id for r in rows if r.id in set(published_ids)])

        now = utcnow()
        async with self.parts.sessionmaker() as session:
            if published_ids:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(published_ids))
                    .values(status="published", published_at=now, attempts=outbox.c.attempts + 1)
                )
            for row_id, attempts, error in failed:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.id == row_id)
                    .values(
                        attempts=attempts,
                        last_error=error,
                        next_attempt_at=now + timedelta(seconds=retry_delay(attempts)),
                    )
                )
            await session.commit()
        self.published += len(published_ids)
        if failed:
            log.warning("outbox relay: %d of %d rows failed to publish, retrying later", len(failed), len(rows))
        return len(published_ids)
