"""Unit of work: one transaction that commits the state change, the inbox record and the outbox rows."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from pm_events import Event
from pm_platform.envelope import Envelope, utcnow
from pm_platform.subjects import check_token
from pm_platform.telemetry import current_trace_context

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
        self._received: list[tuple[str, Envelope]] = []

    async def __aenter__(self) -> UnitOfWork:
        self.session = self.runtime.sessionmaker()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.session.rollback()
        await self.session.close()

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
        trace_context = current_trace_context()
        envelope = Envelope(
            source=f"pm/{self.runtime.settings.service}",
            type=event_type,
            subject=subject,
            dataschema=contract.dataschema,
            site=site,
            department=department,
            correlationid=correlation_id or subject,
            causationid=caused_by.id if caused_by else causation_id,
            traceparent=trace_context.get("traceparent"),
            data=event.payload(),
        )
        self.runtime.catalog.check(envelope)
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

    async def commit(self) -> None:
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
        if self.events:
            await self.session.execute(
                insert(tables.outbox),
                [
                    {
                        "event_id": env.id,
                        "subject": env.nats_subject,
                        "type": env.type,
                        "payload": env.to_json().decode(),
                        "traceparent": env.traceparent,
                        "tracestate": self._trace_context.get(env.id, {}).get("tracestate"),
                        "baggage": self._trace_context.get(env.id, {}).get("baggage"),
                        "status": "pending",
                        "attempts": 0,
                        "created_at": now,
                        "next_attempt_at": now,
                    }
                    for env in self.events
                ],
            )
        await self.session.commit()
        if self.events:
            self.runtime.outbox_written.set()
        self._received.clear()
