"""FastStream's NATS broker as every service runs it, and the subscriber its durable consumers use.

- ``ServiceBroker`` opens the service's one NATS connection through ``bus.connect`` (its own NATS user and
  reply inbox prefix, reconnecting for ever, a refused login failing at once); the outbox relay publishes
  on the same connection. FastStream's own logging is off: it would log every batch received and
  processed; the platform logs what matters (dead letters, retries, failures).
- ``DurablePullSubscriber`` is FastStream's batch pull subscriber bound BY NAME to a durable consumer that
  ``pm provision`` created from ``deploy/nats/jetstream.yaml``. It never creates or updates a consumer
  or a stream (FastStream's own ``pull_subscribe`` creates the consumer when it is missing, with a config
  of its own), so the server-side config is the provisioned one and a service user needs no permission
  beyond ``CONSUMER.INFO``, ``CONSUMER.MSG.NEXT`` and its acks. Its fetch loop takes what one pull returns
  (FastStream's keeps pulling until the batch is full or the timeout passes: up to a second of latency at
  low load) and survives every error a fetch can raise during a reconnect or before the durable exists.

One worker per durable (no ``max_workers``: a concurrent pull subscriber can over-fetch, faststream#2563);
the throughput comes from the batch, applied in one transaction. Messages are acked by the consumer itself
(``AckPolicy.MANUAL``): commit, then ack; ``nak(delay)`` or ``term()`` as ``pm_platform.consumer`` decides.

nats-py stays where FastStream does not fit: the outbox relay (``pm_platform.outbox``: pipelined publishes
on this connection), dead-letter replay (``pm_platform.deadletters``: no bus at all) and ``pm watch``
(``bus.watch_workorders``: an ad-hoc push consumer for a terminal)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import nats.errors
import nats.js.errors
from faststream import AckPolicy
from faststream.nats import NatsBroker
from faststream.nats.subscriber.usecases.stream_pull_subscriber import BatchPullStreamSubscriber

from pm_platform import bus

if TYPE_CHECKING:
    from faststream.message import StreamMessage
    from nats.aio.client import Client
    from nats.aio.msg import Msg

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 1.0
RETRY_FETCH_SECONDS = 0.5


class ServiceBroker(NatsBroker):
    """A ``NatsBroker`` whose connection is ``bus.connect``'s."""

    def __init__(self, url: str, *, name: str, user: str = "", password: str = "") -> None:
        super().__init__(
            url,
            name=name,
            ack_policy=AckPolicy.MANUAL,
            logger=None,
            apply_types=False,  # handlers take the raw batch: nothing to validate twice
            graceful_timeout=5.0,
            drain_timeout=2,
            description=f"The events {name} receives and publishes.",
        )
        self._login = (url, name, user, password)

    async def _connect(self) -> Client:
        url, name, user, password = self._login
        connection = await bus.connect(url, name=name, user=user, password=password)
        self.config.connect(connection)
        return connection


async def raw_batch(message: StreamMessage[list[Msg]]) -> list[Msg]:
    """The decoder of a durable subscriber: the fetched nats-py messages themselves (the consumer parses
    and validates each envelope once, against its contract)."""
    messages: list[Msg] = message.raw_message
    return messages


class DurablePullSubscriber(BatchPullStreamSubscriber):
    """FastStream's batch pull subscriber, bound to a provisioned durable by name."""

    __slots__ = ()

    @property
    def durable(self) -> str:
        durable: str = self.extra_options["durable"]
        return durable

    @property
    def fetching(self) -> bool:
        """Bound and its fetch loop running."""
        return bool(getattr(self, "_fetching", False))

    async def _create_subscription(self) -> None:
        if self.subscription:
            return
        # pull_subscribe_bind: no consumer is created or changed, and the reply inbox is the connection's
        # (the one prefix the service's NATS user may read).
        self.subscription = await self.jetstream.pull_subscribe_bind(
            self.durable,
            self.stream.name,
            pending_msgs_limit=self.extra_options["pending_msgs_limit"],
            pending_bytes_limit=self.extra_options["pending_bytes_limit"],
        )
        self.add_task(self._consume_pull)

    async def _consume_pull(self) -> None:
        assert self.subscription is not None
        self._fetching = True
        try:
            while self.running:
                try:
                    messages = await self.subscription.fetch(self.pull_sub.batch_size, timeout=self.pull_sub.timeout)
                except (TimeoutError, nats.errors.TimeoutError):
                    continue
                except (
                    nats.errors.ConnectionClosedError,
                    nats.errors.ConnectionReconnectingError,
                    nats.js.errors.APIError,
                    nats.errors.NoRespondersError,
                ) as exc:
                    log.warning("%s: fetch failed (%s), retrying", self.durable, exc)
                    await asyncio.sleep(RETRY_FETCH_SECONDS)
                    continue
                except Exception:
                    log.exception("%s: fetch failed unexpectedly, retrying", self.durable)
                    await asyncio.sleep(RETRY_FETCH_SECONDS)
                    continue
                if messages and self.running:
                    await self.consume(messages)
        finally:
            self._fetching = False


def durable_subscriber(
    broker: NatsBroker, *, stream: str, durable: str, filter_subjects: list[str], batch: int, **options: Any
) -> DurablePullSubscriber:
    """Register a durable subscriber on ``broker``; decorate its handler with the result."""
    from faststream.nats import JStream, PullSub
    from nats.js.api import ConsumerConfig

    subscriber = broker.subscriber(
        config=ConsumerConfig(durable_name=durable, filter_subjects=list(filter_subjects)),
        durable=durable,
        stream=JStream(stream, declare=False),
        pull_sub=PullSub(batch_size=batch, timeout=FETCH_TIMEOUT_SECONDS, batch=True),
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_batch,
        no_reply=True,
        **options,
    )
    # The factory builds FastStream's batch subscriber; ours differs only in how it binds and fetches.
    subscriber.__class__ = DurablePullSubscriber
    assert isinstance(subscriber, DurablePullSubscriber)
    return subscriber
