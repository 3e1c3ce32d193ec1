"""The senders behind the channels: one interface, three transports.

- ``FileSink`` (the embedded default for every channel): one JSON line per message in
  ``<var_dir>/notifications/sink.jsonl``, idempotent per message id.
- ``SmtpSender``: email over SMTP (``PM_NOTIFICATION_SMTP_HOST``); the message id is the Message-ID.
- ``HttpGateway``: SMS, push or messaging through an HTTP gateway (``PM_NOTIFICATION_*_GATEWAY_URL``);
  the message id is the Idempotency-Key, so a resend after a crash is not delivered twice by the gateway.

A sender raises ``SendError`` for a failure worth retrying and ``PermanentSendError`` for one that is not
(the gateway refused the message: a retry would be refused too); any other exception counts as transient.
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import httpx

from notification.config import NotificationSettings
from notification.message.models import Message, Status
from notification.preference.models import Channel
from pm_platform.envelope import utcnow


class SendError(Exception):
    """A failure worth retrying (the gateway is down, a timeout, a 5xx)."""


class PermanentSendError(SendError):
    """The message was refused for good (a 4xx, a rejected address)."""


class Sender(Protocol):
    transport: str
    concurrency: int

    async def send(self, message: Message) -> Status:
        """Deliver ``message`` and return ``sent`` (or ``delivered`` when the transport knows); sending the
        same message id again must not deliver it twice."""


class FileSink:
    """The embedded default: one JSON line per message in ``<var_dir>/notifications/sink.jsonl``.

    The ids already written are loaded lazily from the file, so a message sent again after a crash
    (written, but not yet marked sent) is not written twice.
    """

    transport = "file"
    concurrency = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: set[str] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def for_var_dir(cls, var_dir: Path) -> FileSink:
        return cls(var_dir / "notifications" / "sink.jsonl")

    async def send(self, message: Message) -> Status:
        await self.send_many([message])
        return Status.sent

    async def send_many(self, messages: Sequence[Message]) -> None:
        """Write a batch with one fsync (the sender job hands over a batch at a time)."""
        lines = [(m.id, self._line(m)) for m in messages]
        async with self._lock:
            await asyncio.to_thread(self._append, lines)

    @staticmethod
    def _line(message: Message) -> str:
        return json.dumps(
            {
                "message_id": message.id,
                "site": message.site,
                "request_id": message.request_id,
                "broadcast_id": message.broadcast_id,
                "channel": message.channel,
                "recipient": message.recipient,
                "template": message.template,
                "language": message.language,
                "subject": message.subject,
                "body": message.body,
                "correlation_id": message.correlation_id,
                "written_at": utcnow().isoformat(),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def _append(self, lines: list[tuple[str, str]]) -> None:
        if self._written is None:
            self._written = self._load()
        fresh = [(mid, line) for mid, line in lines if mid not in self._written]
        if not fresh:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write("".join(line + "\n" for _, line in fresh))
            sink.flush()
            os.fsync(sink.fileno())
        self._written.update(mid for mid, _ in fresh)

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


class SmtpSender:
    """Email over SMTP (stdlib smtplib in a worker thread; one connection per message)."""

    transport = "smtp"
    concurrency = 4

    def __init__(self, config: NotificationSettings) -> None:
        self.config = config

    async def send(self, message: Message) -> Status:
        await asyncio.to_thread(self._send, message)
        return Status.sent

    def _send(self, message: Message) -> None:
        config = self.config
        email = EmailMessage()
        email["From"] = config.smtp_from
        email["To"] = message.recipient
        email["Subject"] = message.subject or message.template
        # The message id as Message-ID: a resend after a crash is recognisable as the same mail.
        email["Message-ID"] = f"<{message.id}@notification.pm>"
        email.set_content(message.body)
        try:
            with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.smtp_timeout_seconds) as smtp:
                if config.smtp_starttls:
                    smtp.starttls()
                if config.smtp_username:
                    smtp.login(config.smtp_username, config.smtp_password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"recipient refused: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
            raise SendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None


class HttpGateway:
    """SMS / push / messaging through an HTTP gateway: POST JSON, Idempotency-Key = message id.

    2xx: sent (``{"status": "delivered"}`` in the answer: delivered); 408, 429 and 5xx: retried; any other
    4xx: failed for good.
    """

    transport = "http"

    def __init__(self, url: str, config: NotificationSettings) -> None:
        self.url = url
        self.config = config
        self.concurrency = config.send_http_concurrency
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.gateway_timeout_seconds)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, message: Message) -> Status:
        headers = {"Idempotency-Key": message.id}
        if self.config.gateway_token:
            headers["Authorization"] = f"Bearer {self.config.gateway_token}"
        payload = {
            "message_id": message.id,
            "channel": message.channel,
            "to": message.recipient,
            "body": message.body,
            "language": message.language,
            "site": message.site,
            "category": message.category,
        }
        try:
            response = await self.client().post(self.url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise SendError(f"gateway answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentSendError(f"gateway refused the message: {response.status_code} {response.text[:200]}")
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        delivered = isinstance(answer, dict) and answer.get("status") == "delivered"
        return Status.delivered if delivered else Status.sent


class Channels:
    """The sender of each channel; channels without their own sender use the file sink."""

    def __init__(self, default: Sender, senders: dict[str, Sender] | None = None) -> None:
        self.default = default
        self.senders = senders or {}

    def for_channel(self, channel: str) -> Sender:
        return self.senders.get(channel, self.default)

    async def aclose(self) -> None:
        for sender in {id(s): s for s in [self.default, *self.senders.values()]}.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()


def build_channels(config: NotificationSettings, var_dir: Path) -> Channels:
    senders: dict[str, Sender] = {}
    if config.smtp_host:
        senders[Channel.email] = SmtpSender(config)
    for channel, url in (
        (Channel.sms, config.sms_gateway_url),
        (Channel.push, config.push_gateway_url),
        (Channel.messaging, config.messaging_gateway_url),
    ):
        if url:
            senders[channel] = HttpGateway(url, config)
    return Channels(FileSink.for_var_dir(var_dir), senders)
