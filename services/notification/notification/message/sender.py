"""Sending queued messages: a ``Sender`` and the background job that drives it.

Handlers only record messages as ``queued`` in the transaction of the event that caused them. The
sender job picks queued messages, sends each through the ``Sender`` and then, in one transaction, marks
it sent and writes ``notification.message.sent.v1`` to the outbox. A crash between the send and that
commit leaves the message queued, so it is sent again: senders are idempotent per message id (the
file sink skips ids it already holds), which makes the send effectively exactly-once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import select

from notification.message.models import Message, Status
from pm_platform.envelope import utcnow
from pm_platform.runtime import Runtime
from pm_platform.telemetry import context_from_traceparent
from pm_platform.uow import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("notification")

SEND_BATCH = 100
SEND_IDLE_SECONDS = 0.25
# A message whose sender keeps failing is retried with a growing delay, then recorded as failed.
SEND_MAX_ATTEMPTS = 8
SEND_RETRY_MAX_SECONDS = 300.0


class Sender(Protocol):
    channel: str

    async def send(self, message: Message) -> None:
        """Deliver ``message``; sending the same message id again must not deliver it twice."""


class FileSink:
    """The embedded default: one JSON line per message in ``<var_dir>/notifications/sink.jsonl``.

    The ids already written are loaded lazily from the file, so a message sent again after a crash
    (written, but not yet marked sent) is not written twice.
    """

    channel = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: set[str] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def for_var_dir(cls, var_dir: Path) -> FileSink:
        return cls(var_dir / "notifications" / "sink.jsonl")

    async def send(self, message: Message) -> None:
        line = json.dumps({
            "message_id": message.id, "site": message.site, "request_id": message.request_id,
            "channel": self.channel, "recipient": message.recipient, "template": message.template,
            "language": message.language, "body": message.body, "correlation_id": message.correlation_id,
            "written_at": utcnow().isoformat(),
        }, ensure_ascii=False, separators=(",", ":"))
        async with self._lock:
            await asyncio.to_thread(self._append, message.id, line)

    def _append(self, message_id: str, line: str) -> None:
        if self._written is None:
            self._written = self._load()
        if message_id in self._written:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")
            sink.flush()
            os.fsync(sink.fileno())
        self._written.add(message_id)

    def _load(self) -> set[str]:
        if not self.path.exists():
            return set()
        text = self.path.read_text(encoding="utf-8")
        if text and not text.endswith("\n"):
            # A line torn by a crash: end it, so the next line starts on its own (its message is resent).
            with self.path.open("a", encoding="utf-8") as sink:
                sink.write("\n")
        written: set[str] = set()
        for raw in text.splitlines():
            try:
                written.add(str(json.loads(raw)["message_id"]))
            except (ValueError, KeyError, TypeError):
                continue
        return written


async def send_pending(runtime: Runtime, sender: Sender, *, batch: int = SEND_BATCH) -> int:
    """One pass: send the queued messages that are due; return how many were sent (or finally failed)."""
    # The poll runs every SEND_IDLE_SECONDS: keep its SQL out of the traces (sending is traced below).
    with suppress_instrumentation():
        async with runtime.sessionmaker() as session:
            query = (select(Message).where(Message.status == Status.queued, Message.next_attempt_at <= utcnow())
                     .order_by(Message.created_at, Message.id).limit(batch))
            queued: Sequence[Message] = (await session.scalars(query)).all()
    done = 0
    for message in queued:
        with tracer.start_as_current_span(f"send {message.template}", context=context_from_traceparent(
                message.traceparent), attributes={"pm.message_id": message.id, "pm.channel": sender.channel,
                                                  "pm.correlation_id": message.correlation_id}) as span:
            error: str | None = None
            try:
                await sender.send(message)
            except Exception as exc:
                span.record_exception(exc)
                error = f"{type(exc).__name__}: {exc}"
                log.warning("sending message %s failed (attempt %d): %s", message.id, message.attempts + 1, error)
            if await _record_outcome(runtime, message.id, sender.channel, error):
                done += 1
    return done


async def _record_outcome(runtime: Runtime, message_id: str, channel: str, error: str | None) -> bool:
    async with runtime.uow() as uow:
        message = await uow.session.get(Message, message_id, with_for_update=True)
        if message is None or message.status != Status.queued:
            return False  # another sender got there first
        now = utcnow()
        message.attempts += 1
        if error is None:
            message.status, message.channel, message.sent_at, message.last_error = Status.sent, channel, now, None
        else:
            message.last_error = error
            if message.attempts < SEND_MAX_ATTEMPTS:
                delay = min(SEND_RETRY_MAX_SECONDS, 2.0 ** (message.attempts - 1))
                message.next_attempt_at = now + timedelta(seconds=delay)
                await uow.commit()
                return False
            message.status, message.channel = Status.failed, channel
        _emit_outcome(uow, message, now.isoformat())
        await uow.commit()
        return True


def _emit_outcome(uow: UnitOfWork, message: Message, at: str) -> None:
    event = uow.emit(
        "notification.message.sent.v1",
        subject=message.id,
        site=message.site,
        correlation_id=message.correlation_id,
        data={
            "message_id": message.id, "site": message.site, "channel": message.channel,
            "recipient": message.recipient, "template": message.template, "request_id": message.request_id,
            "status": message.status, "sent_at": at,
        },
    )
    # The event that caused the message caused this one too (emit takes causation only from an envelope).
    event.causationid = message.source_event_id


def sender_job(runtime: Runtime, sender: Sender,
               idle_seconds: float = SEND_IDLE_SECONDS) -> Callable[[], Coroutine[Any, Any, None]]:
    """The loop around ``send_pending``, for ``runtime.background``."""

    async def notification_sender() -> None:
        while True:
            try:
                count = await send_pending(runtime, sender)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification sender pass failed")
                count = 0
            if count == 0:
                await asyncio.sleep(idle_seconds)

    return notification_sender
