"""Durable pull consumers with an inbox: validate, handle in one transaction with the inbox record,
commit, then ack. Duplicates are acked without effect; contract violations are dead-lettered and
terminated at once; transient failures are retried with a growing delay and dead-lettered when the
attempts run out."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.context import Context
from sqlalchemy import insert

from pm_platform.contracts import ContractViolation
from pm_platform.envelope import Envelope, utcnow
from pm_platform.telemetry import attached, context_from_headers, tracer
from pm_platform.uow import UnitOfWork

if TYPE_CHECKING:
    from nats.js import JetStreamContext

    from pm_platform.runtime import Runtime

log = logging.getLogger(__name__)

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]


class SimulatedCrash(BaseException):
    """Raised by fault-injection hooks in tests: the process 'dies' where it is (no ack, no nak)."""


@dataclass
class Subscriptions:
    """A service's handlers, by event type (``intake.request.created.v1``)."""

    handlers: dict[str, Handler] = field(default_factory=dict)

    def on(self, event_type: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers[event_type] = handler
            return handler

        return register


class Outcome:
    HANDLED = "handled"
    DUPLICATE = "duplicate"


class ConsumerRunner:
    """Runs one provisioned durable consumer of one service."""

    def __init__(self, runtime: Runtime, js: JetStreamContext, stream: str, durable: str,
                 handlers: dict[str, Handler]) -> None:
        self.runtime = runtime
        self.js = js
        self.stream = stream
        self.durable = durable
        self.handlers = handlers
        self.bound = False
        # Test hook: runs after the commit (or the duplicate check) and before the ack.
        self.after_commit: Callable[[Envelope, str], Awaitable[None]] | None = None

    async def is_ready(self) -> bool:
        """Bound, and the durable provisioned from deploy/ exists on the server."""
        if not self.bound:
            return False
        try:
            await self.js.consumer_info(self.stream, self.durable, timeout=1.0)
        except Exception:
            return False
        return True

    async def run(self) -> None:
        settings = self.runtime.settings
        subscription = await self.js.pull_subscribe_bind(self.durable, self.stream)
        self.bound = True
        try:
            while True:
                try:
                    messages = await subscription.fetch(settings.consumer_batch, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
                        nats.js.errors.APIError, nats.errors.NoRespondersError) as exc:
                    log.warning("%s: fetch failed (%s), retrying", self.durable, exc)
                    await asyncio.sleep(0.5)
                    continue
                await self.handle_batch(messages)
        finally:
            self.bound = False

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Apply a fetched batch in one transaction, then ack each message.

        One commit per batch instead of per event is what lets a hop keep up with the bus. Any failure
        in the batch (a handler error, a failed commit) rolls the whole batch back and each message goes
        through ``handle_message`` on its own, with its own retry or dead letter.
        """
        if len(messages) == 1:
            await self._handle_alone(messages[0])
            return
        parsed: list[tuple[Msg, Envelope, trace.Span]] = []
        for message in messages:
            try:
                envelope = self.runtime.catalog.parse(message.data)
            except ContractViolation:
                await self._handle_alone(message)  # dead-lettered there, with its reason
                continue
            parsed.append((message, envelope, self._consume_span(message, envelope)))
        if not parsed:
            return
        try:
            outcomes = await self._apply_batch([(envelope, span, context_from_headers(message.headers))
                                                for message, envelope, span in parsed])
        except Exception as exc:
            log.info("%s: batch of %d failed (%s: %s); handling one by one",
                     self.durable, len(parsed), type(exc).__name__, exc)
            for message, _, span in parsed:
                span.end()
                await self._handle_alone(message)
            return
        for (message, envelope, span), outcome in zip(parsed, outcomes, strict=True):
            with trace.use_span(span, end_on_exit=True):
                span.set_attribute("pm.outcome", outcome)
                if self.after_commit is not None:
                    await self.after_commit(envelope, outcome)
                await message.ack()

    async def _apply_batch(self, batch: list[tuple[Envelope, trace.Span, Context]]) -> list[str]:
        outcomes: list[str] = []
        async with UnitOfWork(self.runtime) as uow:
            seen = await uow.received_among(self.durable, [envelope.id for envelope, _, _ in batch])
            for envelope, span, context in batch:
                if envelope.id in seen:
                    outcomes.append(Outcome.DUPLICATE)
                    continue
                handler = self.handlers.get(envelope.type)
                if handler is None:
                    raise ContractViolation(f"type: consumer {self.durable} has no handler for {envelope.type}")
                # The handler runs in the message's context (baggage too), so the events it emits carry it on.
                with attached(context), trace.use_span(span, end_on_exit=False):
                    await handler(envelope, uow)
                uow.mark_received(self.durable, envelope)
                seen.add(envelope.id)
                outcomes.append(Outcome.HANDLED)
            await uow.commit()
        return outcomes

    def _consume_span(self, message: Msg, envelope: Envelope) -> trace.Span:
        span = tracer.start_span(
            f"consume {message.subject}",
            context=context_from_headers(message.headers),
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.destination.name": message.subject,
                        "messaging.consumer.group.name": self.durable,
                        "messaging.nats.delivery_count": message.metadata.num_delivered,
                        "messaging.message.id": envelope.id, "pm.correlation_id": envelope.correlationid},
        )
        return span

    async def _handle_alone(self, message: Msg) -> None:
        try:
            await self.handle_message(message)
        except Exception:
            # Not acked: JetStream redelivers after ack_wait and the inbox absorbs the repeat.
            log.exception("%s: handling %s failed", self.durable, message.subject)

    async def handle_message(self, message: Msg) -> None:
        metadata = message.metadata
        parent = context_from_headers(message.headers)
        with attached(parent), tracer.start_as_current_span(
            f"consume {message.subject}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.destination.name": message.subject,
                        "messaging.consumer.group.name": self.durable,
                        "messaging.nats.delivery_count": metadata.num_delivered},
        ) as span:
            try:
                envelope = self.runtime.catalog.parse(message.data)
            except ContractViolation as violation:
                span.set_status(trace.StatusCode.ERROR, str(violation))
                await self.dead_letter(message, kind="contract", reason=str(violation))
                await message.term()
                return
            span.set_attribute("messaging.message.id", envelope.id)
            span.set_attribute("pm.correlation_id", envelope.correlationid)
            try:
                outcome = await self.process(envelope)
            except ContractViolation as violation:
                # A handler found the payload unusable (for example an event it cannot apply).
                await self.dead_letter(message, kind="contract", reason=str(violation), envelope=envelope)
                await message.term()
                return
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR, str(exc))
                await self.retry_or_dead_letter(message, envelope, exc)
                return
            span.set_attribute("pm.outcome", outcome)
            if self.after_commit is not None:
                await self.after_commit(envelope, outcome)
            await message.ack()

    async def process(self, envelope: Envelope) -> str:
        return await apply_event(self.runtime, self.durable, self.handlers, envelope)

    async def retry_or_dead_letter(self, message: Msg, envelope: Envelope, exc: Exception) -> None:
        settings = self.runtime.settings
        deliveries = message.metadata.num_delivered
        reason = f"{type(exc).__name__}: {exc}"
        if deliveries >= settings.consumer_max_attempts:
            await self.dead_letter(message, kind="transient", reason=reason, envelope=envelope)
            await message.term()
            return
        delay = min(settings.consumer_retry_max_seconds,
                    settings.consumer_retry_base_seconds * (2 ** (deliveries - 1)))
        log.warning("%s: %s failed (delivery %d), retrying in %.1fs: %s",
                    self.durable, envelope.type, deliveries, delay, reason)
        await message.nak(delay=delay)

    async def dead_letter(self, message: Msg, *, kind: str, reason: str, envelope: Envelope | None = None) -> None:
        metadata = message.metadata
        document: dict[str, Any] = {}
        if envelope is None:
            try:
                document = json.loads(message.data)
            except ValueError:
                document = {}
        dead_letters = self.runtime.tables.dead_letters
        async with self.runtime.sessionmaker() as session:
            await session.execute(
                insert(dead_letters).values(
                    consumer=self.durable,
                    stream=metadata.stream,
                    stream_sequence=metadata.sequence.stream,
                    subject=message.subject,
                    event_id=envelope.id if envelope else _text(document.get("id")),
                    event_type=envelope.type if envelope else _text(document.get("type")),
                    payload=message.data.decode("utf-8", errors="replace"),
                    headers=json.dumps(dict(message.headers or {})),
                    kind=kind,
                    reason=reason,
                    deliveries=metadata.num_delivered,
                    status="open",
                    created_at=utcnow(),
                )
            )
            await session.commit()
        log.error("%s: dead letter (%s) for %s: %s", self.durable, kind, message.subject, reason)


async def apply_event(runtime: Runtime, consumer: str, handlers: dict[str, Handler], envelope: Envelope) -> str:
    """Apply an event exactly once: inbox check, handler, inbox record and outbox in one commit."""
    handler = handlers.get(envelope.type)
    if handler is None:
        raise ContractViolation(f"type: consumer {consumer} has no handler for {envelope.type}")
    async with UnitOfWork(runtime) as uow:
        if await uow.already_received(consumer, envelope.id):
            return Outcome.DUPLICATE
        await handler(envelope, uow)
        uow.mark_received(consumer, envelope)
        await uow.commit()
    return Outcome.HANDLED


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
