"""Unit of work: one transaction that commits the state change, the inbox record and the outbox rows."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from pm_events import Event
from pm_platform.db import bulk_insert
from pm_platform.envelope import Envelope, utcnow
from pm_platform.subjects import check_token
from pm_platform.telemetry import (
    context_from_traceparent,
    current_trace_context,
    span_context_of,
    traceparent_of,
    tracer,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from pm_platform.parts import ServiceParts


class UnitOfWork:
    """``async with runtime.uow() as uow: ...; uow.emit(...); await uow.commit()`` (or ``UnitOfWork(parts)``).

    Leaving the block without ``commit()`` rolls back; events are written to the outbox only on commit.
    """

    session: AsyncSession

    def __init__(self, runtime: ServiceParts) -> None:
        self.runtime = runtime  # the service's parts (named runtime: handlers and emit read it so)
        self.events: list[Envelope] = []
        # Per event id: tracestate and baggage, which the outbox row keeps beside the envelope's traceparent.
        self._trace_context: dict[str, dict[str, str]] = {}
        # Per event id: its JSON as checked against its contract, written to the outbox as it is.
        self._bodies: dict[str, bytes] = {}
        self._received: list[tuple[str, Envelope]] = []
        # The trace each correlation lives in, as this transaction saw it first (kept if none is known yet).
        self._request_traces: dict[str, str] = {}
        # Per request joined from another trace (an HTTP step): the span in the request's trace that the
        # step's events and timers continue from.
        self._joined: dict[str, trace.Span] = {}
        # The trace context last written out, and the context it was written from: a run emitting 100,000 events
        # in one span writes it once (the propagators' inject is a few microseconds per event).
        self._written_context: tuple[otel_context.Context, dict[str, str]] | None = None
        self._outbox_written = 0  # how many of ``events`` have their outbox row written in this transaction

    async def __aenter__(self) -> UnitOfWork:
        self.session = self.runtime.sessionmaker()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for step in self._joined.values():
            step.end()
        self._joined.clear()
        await self.session.rollback()
        await self.session.close()

    async def join_request(self, request_id: str, *, new: bool = False) -> None:
        """Say that this work acts on the owner's request ``request_id`` (an HTTP step on its aggregate: a
        worker completing the work order, an agent replying, a follow-up's result; a timer).

        The current span is marked (``pm.correlation_id``, ``pm.request_id``). When the request lives in
        another trace (as this service first saw it), the current span gets a link to it and a ``step`` span
        opens in the request's trace, linked back to the current span: the events this unit of work emits
        for the request, and the timers it schedules, continue the request's trace from there. So an HTTP
        step is a trace of its own (its server span and SQL) linked both ways with the request's trace, and
        the event-driven chain stays the request's one trace. A request not seen before lives in the
        current trace from now on; ``new`` says the request is being created here, so there is nothing to look up.
        """
        span = trace.get_current_span()
        span.set_attribute("pm.correlation_id", request_id)
        span.set_attribute("pm.request_id", request_id)
        if request_id in self._joined:
            return
        current = span.get_span_context()
        table = self.runtime.tables.request_traces
        stored = None
        if not new:
            stored = (
                await self.session.execute(select(table.c.traceparent).where(table.c.correlation_id == request_id))
            ).scalar_one_or_none()
        request = span_context_of(stored)
        if request is None:
            if current.is_valid:
                self._remember_trace(request_id, traceparent_of(current))
            return
        if request.trace_id == current.trace_id:
            return
        if current.is_valid:
            span.add_link(request, {"pm.link": "request", "pm.request_id": request_id})
        step = tracer.start_span(
            f"step {getattr(span, 'name', '') or 'on the request'}",
            context=context_from_traceparent(stored),
            links=[trace.Link(current, {"pm.link": "step"})] if current.is_valid else None,
            attributes={"pm.correlation_id": request_id, "pm.request_id": request_id},
        )
        if step.get_span_context().is_valid:  # not when tracing is off
            self._joined[request_id] = step

    def trace_context(self, correlation_id: str | None = None) -> dict[str, str]:
        """The W3C trace context that work done in this unit of work for ``correlation_id`` (or for the
        request it joined, when None) continues: the joined request's step span, else the current one."""
        step = self._joined.get(correlation_id) if correlation_id else next(iter(self._joined.values()), None)
        context = otel_context.get_current() if step is None else trace.set_span_in_context(step)
        written = self._written_context
        if written is not None and written[0] == context:
            return written[1]
        carrier = current_trace_context(context)
        self._written_context = (context, carrier)
        return carrier

    def _remember_trace(self, correlation_id: str | None, traceparent: str | None) -> None:
        if correlation_id and traceparent and len(correlation_id) <= 128 and len(traceparent) <= 64:
            self._request_traces.setdefault(correlation_id, traceparent)

    def emit(
        self,
        event: Event,
        *,
        subject: str,
        site: str,
        department: str | None = None,
        caused_by: Envelope | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """Record an integration event, validated against its contract, to be published after commit.

        The event's model names its type (``RequestCreated`` is ``intake.request.created.v1``); its data is
        the fields the producer gave, in that order (an explicit null stays, an absent field stays absent).

        ``caused_by`` carries the correlation id on and sets the causation id; a chain's first event
        names its correlation id (the owner's request) itself, and work done later on behalf of an
        event (a queued message sent by a job) names that event's id as ``causation_id``.
        """
        event_type = event.event_type
        contract = self.runtime.catalog.contract(event_type)
        check_token("site", site)
        if contract.has_department:
            check_token("department", department or "")
        else:
            department = None
        if caused_by is not None:
            correlation_id = caused_by.correlationid
        correlation_id = correlation_id or subject
        trace_context = self.trace_context(correlation_id)
        if caused_by is None:
            self._remember_trace(correlation_id, trace_context.get("traceparent"))
        envelope = Envelope(
            source=f"pm/{self.runtime.settings.service}",
            type=event_type,
            subject=subject,
            dataschema=contract.dataschema,
            site=site,
            department=department,
            correlationid=correlation_id,
            causationid=caused_by.id if caused_by else causation_id,
            traceparent=trace_context.get("traceparent"),
            data=event.payload(),
        )
        self._bodies[envelope.id] = self.runtime.catalog.check(envelope)
        self.events.append(envelope)
        self._trace_context[envelope.id] = trace_context
        return envelope

    async def already_received(self, consumer: str, event_id: str) -> bool:
        inbox = self.runtime.tables.inbox
        found = await self.session.execute(
            select(inbox.c.event_id).where(inbox.c.consumer == consumer, inbox.c.event_id == event_id)
        )
        return found.first() is not None

    async def received_among(self, consumer: str, event_ids: list[str]) -> set[str]:
        """Which of these events this consumer has already applied (one query for a whole batch)."""
        inbox = self.runtime.tables.inbox
        found = await self.session.execute(
            select(inbox.c.event_id).where(inbox.c.consumer == consumer, inbox.c.event_id.in_(event_ids))
        )
        return {row[0] for row in found}

    def mark_received(self, consumer: str, envelope: Envelope) -> None:
        self._received.append((consumer, envelope))
        self._remember_trace(envelope.correlationid, envelope.traceparent)

    async def write_outbox(self, now: datetime | None = None) -> None:
        """Write the outbox rows of the events emitted since the last write, in this transaction (``commit`` writes
        the rest; a rollback drops them all): a bulk job writes one batch while it builds the next."""
        pending = self.events[self._outbox_written :]
        self._outbox_written = len(self.events)
        now = now or utcnow()
        rows: list[dict[str, object]] = []
        for env in pending:
            context = self._trace_context.get(env.id, {})
            rows.append(
                {
                    "event_id": env.id,
                    "subject": env.nats_subject,
                    "type": env.type,
                    "payload": (self._bodies.get(env.id) or env.to_json()).decode(),
                    "traceparent": env.traceparent,
                    "tracestate": context.get("tracestate"),
                    "baggage": context.get("baggage"),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
        await bulk_insert(self.session, self.runtime.tables.outbox, rows)

    async def commit(self) -> None:
        try:
            await self._write_and_commit()
        except BaseException:
            self._outbox_written = 0  # the outbox rows went with the transaction: a retry writes them all again
            raise
        if self.events:
            self.runtime.outbox_written.set()
        # Committed: a later commit of this unit of work writes (or, failing, rewrites) only what is emitted after,
        # and a run's hundreds of thousands of events are freed now rather than with the unit of work.
        self.events.clear()
        self._bodies.clear()
        self._trace_context.clear()
        self._outbox_written = 0
        self._received.clear()
        self._request_traces.clear()

    async def _write_and_commit(self) -> None:
        now = utcnow()
        tables = self.runtime.tables
        if self._received:
            await self.session.execute(
                insert(tables.inbox),
                [
                    {"consumer": consumer, "event_id": env.id, "event_type": env.type, "received_at": now}
                    for consumer, env in self._received
                ],
            )
        await self.write_outbox(now)
        if self._request_traces:
            # Sorted, so that concurrent transactions take the keys in one order (no deadlock on PostgreSQL).
            await self.session.execute(
                _insert_if_absent(self.runtime.tables.request_traces, self.runtime.engine.dialect.name),
                [
                    {"correlation_id": correlation_id, "traceparent": traceparent, "created_at": now}
                    for correlation_id, traceparent in sorted(self._request_traces.items())
                ],
            )
        await self.session.commit()


def _insert_if_absent(table: Table, dialect: str) -> Insert:
    """An insert that leaves a row whose key is already there (the first writer wins)."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
