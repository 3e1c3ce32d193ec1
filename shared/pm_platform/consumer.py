"""Durable pull consumers with an inbox: validate, handle in one transaction with the inbox record,
commit, then ack. Duplicates are acked without effect; contract violations (and handler failures that
only the message's content can cause) are dead-lettered and terminated at once; transient failures are
retried with a growing delay and dead-lettered when the attempts run out. No message, whatever it holds,
stops the loop.

Each durable consumer is a FastStream subscriber (``pm_platform.broker.DurablePullSubscriber``) on the
service's ``NatsBroker``, bound by name to the durable ``pm provision`` created; the subscriber hands each
fetched batch to ``ConsumerRunner.handle_batch`` and the runner acks, naks or terminates each message
itself (FastStream's ack policy is ``MANUAL``). Replaying a dead letter (``apply_event``) needs no bus."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.context import Context
from sqlalchemy import insert
from sqlalchemy.exc import DataError, DBAPIError

from pm_platform.broker import DurablePullSubscriber, durable_subscriber
from pm_platform.contracts import ContractViolation
from pm_platform.envelope import Envelope, utcnow
from pm_platform.errors import DomainError
from pm_platform.subscriptions import Handler
from pm_platform.telemetry import attached, context_from_headers, tracer
from pm_platform.uow import UnitOfWork

if TYPE_CHECKING:
    from faststream.nats import NatsBroker

    from pm_platform.parts import ServiceParts

log = logging.getLogger(__name__)


class SimulatedCrash(BaseException):
    """Raised by fault-injection hooks in tests: the process 'dies' where it is (no ack, no nak)."""


class Outcome:
    HANDLED = "handled"
    DUPLICATE = "duplicate"


class ConsumerRunner:
    """Runs one provisioned durable consumer of one service, as a FastStream subscriber."""

    def __init__(self, parts: ServiceParts, stream: str, durable: str, handlers: dict[str, Handler]) -> None:
        self.parts = parts
        self.stream = stream
        self.durable = durable
        self.handlers = handlers
        self.subscriber: DurablePullSubscriber | None = None
        # Test hook: runs after the commit (or the duplicate check) and before the ack.
        self.after_commit: Callable[[Envelope, str], Awaitable[None]] | None = None

    def subscribe(self, broker: NatsBroker, filter_subjects: list[str]) -> DurablePullSubscriber:
        """Register this consumer's subscriber on ``broker`` (it starts with the broker)."""
        subscriber = durable_subscriber(
            broker,
            stream=self.stream,
            durable=self.durable,
            filter_subjects=filter_subjects,
            batch=self.parts.settings.consumer_batch,
            title=f"{self.durable}:{self.stream}",
            description=f"The durable consumer {self.durable} of the stream {self.stream}.",
        )
        subscriber(self.on_batch)
        self.subscriber = subscriber
        return subscriber

    @property
    def bound(self) -> bool:
        """Bound to the durable, and fetching."""
        return self.subscriber is not None and self.subscriber.fetching

    async def is_ready(self) -> bool:
        """Bound, the durable provisioned from deploy/ exists on the server, and it is not far behind."""
        return await self.readiness_problem() is None

    async def readiness_problem(self) -> str | None:
        """Why this consumer is not ready (stopped, unbound, not provisioned, fallen behind), or None."""
        settings = self.parts.settings
        timeout, max_pending = settings.ready_check_timeout_seconds, settings.ready_max_pending
        if self.subscriber is None:
            return "not subscribed"
        tasks = self.subscriber.tasks
        # FastStream may restart a failed fetch loop (a new task beside the ended one): stopped means none runs.
        if tasks and all(task.done() for task in tasks):
            return "stopped: its fetch loop ended"
        if not self.bound:
            return "not bound to its durable yet"
        try:
            info = await self.subscriber.jetstream.consumer_info(self.stream, self.durable, timeout=timeout)
        except Exception as exc:
            return f"no consumer info ({type(exc).__name__}: {exc})".replace(": )", ")")
        if info.num_pending is not None and info.num_pending > max_pending:
            return f"fallen behind: {info.num_pending} events pending (more than {max_pending})"
        return None

    async def on_batch(self, messages: list[Msg]) -> None:
        """The subscriber's handler: whatever one batch does (an ack lost with the connection, say), the
        consumer goes on: an unacked message comes back after ack_wait and the inbox absorbs the repeat."""
        try:
            await self.handle_batch(messages)
        except Exception:
            log.exception("%s: a batch of %d failed; going on", self.durable, len(messages))

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
                envelope = self.parts.catalog.parse(message.data)
                span = self._consume_span(message, envelope)
            except Exception:
                await self._handle_alone(message)  # dead-lettered there, with its reason
                continue
            parsed.append((message, envelope, span))
        if not parsed:
            return
        try:
            outcomes = await self._apply_batch(
                [(envelope, span, context_from_headers(message.headers)) for message, envelope, span in parsed]
            )
        except Exception as exc:
            log.info(
                "%s: batch of %d failed (%s: %s); handling one by one",
                self.durable,
                len(parsed),
                type(exc).__name__,
                exc,
            )
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
        # The batch's own statements (the inbox check, the commit) in one span linked to each message's.
        links = [trace.Link(span.get_span_context()) for _, span, _ in batch]
        with tracer.start_as_current_span(f"apply {len(batch)} events", links=links):
            return await self._apply_batch_in(batch)

    async def _apply_batch_in(self, batch: list[tuple[Envelope, trace.Span, Context]]) -> list[str]:
        outcomes: list[str] = []
        async with UnitOfWork(self.parts) as uow:
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
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": message.subject,
                "messaging.consumer.group.name": self.durable,
                "messaging.nats.delivery_count": message.metadata.num_delivered,
                "messaging.message.id": envelope.id,
                "pm.correlation_id": envelope.correlationid,
            },
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
        with (
            attached(parent),
            tracer.start_as_current_span(
                f"consume {message.subject}",
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.destination.name": message.subject,
                    "messaging.consumer.group.name": self.durable,
                    "messaging.nats.delivery_count": metadata.num_delivered,
                },
            ) as span,
        ):
            try:
                envelope = self.parts.catalog.parse(message.data)
            except Exception as exc:  # parse raises ContractViolation only; anything else is the body's fault too
                reason = str(exc) if isinstance(exc, ContractViolation) else f"{type(exc).__name__}: {exc}"
                span.set_status(trace.StatusCode.ERROR, _clip(reason))
                await self._dead_letter_and_term(message, kind="contract", reason=reason)
                return
            span.set_attribute("messaging.message.id", envelope.id)
            span.set_attribute("pm.correlation_id", envelope.correlationid)
            try:
                outcome = await self.process(envelope)
            except ContractViolation as violation:
                # A handler found the payload unusable (for example an event it cannot apply).
                await self._dead_letter_and_term(message, kind="contract", reason=str(violation), envelope=envelope)
                return
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR, _clip(str(exc)))
                if is_poison(exc):
                    # The same content fails the same way on every delivery: retrying only delays the dead letter.
                    await self._dead_letter_and_term(message, kind="contract", reason=_describe(exc), envelope=envelope)
                    return
                await self.retry_or_dead_letter(message, envelope, exc)
                return
            span.set_attribute("pm.outcome", outcome)
            if self.after_commit is not None:
                await self.after_commit(envelope, outcome)
            await message.ack()

    async def process(self, envelope: Envelope) -> str:
        return await apply_event(self.parts, self.durable, self.handlers, envelope)

    def _retry_delay(self, deliveries: int) -> float:
        settings = self.parts.settings
        return float(
            min(
                settings.consumer_retry_max_seconds,
                settings.consumer_retry_base_seconds * (2 ** (min(deliveries, 32) - 1)),
            )
        )

    async def retry_or_dead_letter(self, message: Msg, envelope: Envelope, exc: Exception) -> None:
        settings = self.parts.settings
        deliveries = message.metadata.num_delivered
        reason = _describe(exc)
        if deliveries >= settings.consumer_max_attempts:
            await self._dead_letter_and_term(message, kind="transient", reason=reason, envelope=envelope)
            return
        delay = self._retry_delay(deliveries)
        log.warning(
            "%s: %s failed (delivery %d), retrying in %.1fs: %s",
            self.durable,
            envelope.type,
            deliveries,
            delay,
            _clip(reason),
        )
        await message.nak(delay=delay)

    async def _dead_letter_and_term(
        self, message: Msg, *, kind: str, reason: str, envelope: Envelope | None = None
    ) -> None:
        try:
            await self.dead_letter(message, kind=kind, reason=reason, envelope=envelope)
        except Exception as exc:
            # Not even a minimal record could be written (the database is down): keep the message and try
            # again later. The server's max_deliver bounds this; its advisory lands in the ADVISORIES stream.
            delay = self._retry_delay(message.metadata.num_delivered)
            log.error(
                "%s: could not record the dead letter for %s (%s), retrying in %.1fs",
                self.durable,
                message.subject,
                _clip(_describe(exc)),
                delay,
            )
            await message.nak(delay=delay)
            return
        await message.term()

    async def dead_letter(self, message: Msg, *, kind: str, reason: str, envelope: Envelope | None = None) -> None:
        """Record a dead letter. What is stored is sanitized (no NUL, no lone surrogate, lengths that fit the
        columns); the original stays in the stream under ``stream_sequence``. Should the full record still
        fail, a minimal one is written; should that fail too, the error is raised."""
        metadata = message.metadata
        document: Any = {}
        if envelope is None:
            try:
                document = json.loads(message.data)
            except (ValueError, RecursionError):
                document = {}
        if not isinstance(document, dict):
            document = {}
        payload, payload_changed = _storable_payload(message.data)
        if payload_changed:
            reason = (
                f"{reason} (payload sanitized; the original is stream {metadata.stream} sequence "
                f"{metadata.sequence.stream})"
            )
        row: dict[str, Any] = {
            "consumer": self.durable,
            "stream": metadata.stream,
            "stream_sequence": metadata.sequence.stream,
            "subject": _storable(message.subject, 255),
            "kind": kind,
            "deliveries": metadata.num_delivered,
            "status": "open",
            "created_at": utcnow(),
        }
        try:
            await self._insert_dead_letter(
                {
                    **row,
                    "event_id": _storable(envelope.id if envelope else _text(document.get("id")), 64),
                    "event_type": _storable(envelope.type if envelope else _text(document.get("type")), 128),
                    "payload": payload,
                    "headers": _storable_headers(message.headers),
                    "reason": _storable(reason, MAX_STORED_REASON),
                }
            )
        except Exception as exc:
            log.warning(
                "%s: the full dead letter for %s failed (%s); recording a minimal one",
                self.durable,
                message.subject,
                _clip(_describe(exc)),
            )
            await self._insert_dead_letter(
                {
                    **row,
                    "payload": "",
                    "reason": _storable(
                        f"{reason} [only a minimal record: {_describe(exc)}; the message is stream "
                        f"{metadata.stream} sequence {metadata.sequence.stream}]",
                        MAX_STORED_REASON,
                    ),
                }
            )
        log.error("%s: dead letter (%s) for %s: %s", self.durable, kind, _clip(message.subject), _clip(reason))

    async def _insert_dead_letter(self, values: dict[str, Any]) -> None:
        async with self.parts.sessionmaker() as session:
            await session.execute(insert(self.parts.tables.dead_letters).values(**values))
            await session.commit()


async def apply_event(parts: ServiceParts, consumer: str, handlers: dict[str, Handler], envelope: Envelope) -> str:
    """Apply an event exactly once: inbox check, handler, inbox record and outbox in one commit."""
    handler = handlers.get(envelope.type)
    if handler is None:
        raise ContractViolation(f"type: consumer {consumer} has no handler for {envelope.type}")
    async with UnitOfWork(parts) as uow:
        if await uow.already_received(consumer, envelope.id):
            return Outcome.DUPLICATE
        await handler(envelope, uow)
        uow.mark_received(consumer, envelope)
        await uow.commit()
    return Outcome.HANDLED


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


MAX_STORED_REASON = 4000
MAX_STORED_HEADER = 1000


def is_poison(exc: BaseException) -> bool:
    """Did a handler fail on what the message holds, so that every delivery fails the same way? Values the
    database refuses (a NUL in text on PostgreSQL, a string too long, a number out of range: SQLSTATE class
    22), text that cannot be encoded (a lone surrogate), numbers and dates out of range, nesting too deep,
    and a 4xx-class domain error (a conflict, something unknown: the event asks what cannot be done).
    Anything else (a database that is down, a bug fixed by the next deploy) is retried."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen or len(seen) > 16:
            continue
        seen.add(id(current))
        if isinstance(current, (RecursionError, OverflowError, UnicodeError, DataError)):
            return True
        if isinstance(current, DomainError) and 400 <= current.status < 500:
            return True
        if str(getattr(current, "sqlstate", None) or "").startswith("22"):
            return True
        orig = current.orig if isinstance(current, DBAPIError) else None
        pending.extend([orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__])
    return False


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _storable(text: str | None, limit: int) -> str | None:
    """Text every backend stores: PostgreSQL refuses NUL, no UTF-8 encoder takes a lone surrogate, and a
    value longer than its column fails the insert on PostgreSQL."""
    if text is None:
        return None
    clean = text.encode("utf-8", errors="backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def _storable_headers(headers: dict[str, str] | None) -> str:
    """The headers as JSON (escaped, so storable), each name and value cut to a readable length."""
    return json.dumps({name[:200]: value[:MAX_STORED_HEADER] for name, value in (headers or {}).items()})


def _storable_payload(data: bytes) -> tuple[str, bool]:
    """The body as text, and whether it had to be changed to be stored (then the stream keeps the original)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="backslashreplace")
        return text.replace("\x00", "\\x00"), True
    if "\x00" in text:
        return text.replace("\x00", "\\x00"), True
    return text, False
