"""The console's NATS connection and one live subscription per open stream.

Each subscription is a set of short-lived JetStream push consumers, one per subject (an event type at one
site), delivering only new events to an inbox of the console's own; the console's NATS user may create
nothing else (pm_platform.natsauth). No acks and no flow control: the events are hints to reload, not
work to do. A missed event costs nothing lasting, since the page reloads from the APIs after every
(re)connection. The server removes a consumer soon after its inbox has no listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from pm_platform import bus, natsauth
from pm_platform.settings import Settings

log = logging.getLogger(__name__)
Callback = Callable[[Msg], Awaitable[None]]

# Only these fields of an event's data reach the browser: ids and code words, never a name or a phone.
FORWARDED = ("request_id", "work_order_id", "followup_id", "status", "to_status", "limit", "stage", "due_at")
# Events waiting for a slow browser; past this the stream asks the page to reload instead.
QUEUE_SIZE = 256
# How long the server keeps a consumer whose inbox nobody listens to any more (a console that died).
INACTIVE_SECONDS = 30.0
CONNECT_SECONDS = 5.0


@dataclass(frozen=True)
class LiveEvent:
    topic: str
    data: dict[str, str]


@dataclass
class LiveSubscription:
    events: asyncio.Queue[LiveEvent | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    subscriptions: list[Subscription] = field(default_factory=list)
    reconnects: int = 0  # the connection's count when subscribed: a higher one means events may be lost
    overflowed: bool = False

    async def close(self) -> None:
        # Shielded: a browser that went away cancels the stream, and the inboxes must still be let go.
        with anyio.CancelScope(shield=True), anyio.move_on_after(CONNECT_SECONDS):
            for subscription in self.subscriptions:
                with contextlib.suppress(Exception):  # the connection may be gone already
                    await subscription.unsubscribe()


class LiveHub:
    """Connects to NATS as the console's user on first use, so the pages serve even while NATS is down."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.nc: Client | None = None
        self.lock = asyncio.Lock()

    async def connection(self) -> Client:
        async with self.lock:
            if self.nc is not None and not self.nc.is_closed:
                return self.nc
            s = self.settings
            # bus.connect keeps trying an unreachable server: a page asking for live updates waits no longer.
            connecting = bus.connect(s.nats_url, "console", s.nats_user, s.nats_password)
            nc = await asyncio.wait_for(connecting, CONNECT_SECONDS)
            self.nc = nc
            return nc

    def reconnected_since(self, live: LiveSubscription) -> bool:
        return self.nc is None or self.nc.is_closed or self.nc.stats["reconnects"] != live.reconnects

    async def subscribe(self, subjects: list[tuple[str, str]]) -> LiveSubscription:
        """A consumer per (topic, subject), all feeding one queue of LiveEvents."""
        nc = await self.connection()
        live = LiveSubscription(reconnects=nc.stats["reconnects"])
        js = nc.jetstream()
        try:
            configs = []
            for topic, subject in subjects:
                inbox = nc.new_inbox()
                live.subscriptions.append(await nc.subscribe(inbox, cb=_forward(topic, live)))
                configs.append(
                    ConsumerConfig(
                        name=f"live-{secrets.token_hex(8)}",
                        filter_subject=subject,
                        deliver_subject=inbox,
                        deliver_policy=DeliverPolicy.NEW,
                        ack_policy=AckPolicy.NONE,
                        inactive_threshold=INACTIVE_SECONDS,
                        mem_storage=True,
                        num_replicas=1,
                    )
                )
            # Side by side: a board opens a dozen, and each is one round trip to the server.
            await asyncio.gather(
                *(js.add_consumer(natsauth.stream_of(c.filter_subject or ""), c, timeout=5) for c in configs)
            )
        except BaseException:
            await live.close()
            raise
        return live

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()


def _forward(topic: str, live: LiveSubscription) -> Callback:
    async def on_message(message: Msg) -> None:
        try:
            envelope = json.loads(message.data)
            data = envelope.get("data") or {}
            event = {"type": str(envelope.get("type", "")), "site": str(envelope.get("site", ""))}
            event.update({key: str(data[key]) for key in FORWARDED if data.get(key) is not None})
        except (ValueError, AttributeError):
            log.warning("live: an event on %s is not a JSON envelope", message.subject)
            return
        try:
            live.events.put_nowait(LiveEvent(topic, event))
        except asyncio.QueueFull:
            live.overflowed = True

    return on_message
