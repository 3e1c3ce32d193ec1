"""NATS connection and JetStream provisioning from the canonical definitions in ``deploy/nats``.

Services never declare streams or consumers; ``pm provision`` (run by ``make run``, the tests and the
deployment) creates or updates them, and services bind to the durable consumers by name.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import yaml
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from pm_platform import natsauth
from pm_platform.subjects import ADVISORY_STREAM, advisory_durable, advisory_subjects

log = logging.getLogger(__name__)


async def connect(url: str, name: str, user: str = "", password: str = "") -> Client:
    """Connect and never give up reconnecting (the nats-py default stops after about 2 minutes).

    With a user, replies come to that user's own inbox prefix, the only one its permissions let it
    read (pm_platform.natsauth).
    """
    credentials: dict[str, Any] = {}
    if user:
        credentials = {"user": user, "password": password, "inbox_prefix": natsauth.inbox_prefix(user)}
    connected = False

    async def on_error(exc: Exception) -> None:
        # Never giving up also means retrying a refused login forever: stop at the first refusal instead
        # (nats-py lets an exception from this callback end the initial connect).
        if not connected and "authorization violation" in str(exc).lower():
            raise LoginRefused(f"nats-server refused the login of {user or 'an anonymous client'} at {url}")
        log.error("nats (%s): %s", name, exc)

    nc = await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        connect_timeout=5,
        error_cb=on_error,
        **credentials,
    )
    connected = True
    return nc


class LoginRefused(RuntimeError):
    """nats-server refused the user and password (or an anonymous client)."""


@dataclass(frozen=True)
class StreamDefinition:
    name: str
    subjects: list[str]
    duplicate_window_seconds: float
    max_age_days: float
    replicas: int = 1

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=self.subjects,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_days * 86400,
            duplicate_window=self.duplicate_window_seconds,
            num_replicas=self.replicas,
        )


@dataclass(frozen=True)
class ConsumerDefinition:
    service: str
    stream: str
    durable: str
    filter_subjects: list[str]
    ack_wait_seconds: float
    max_deliver: int
    max_ack_pending: int

    def config(self, **overrides: Any) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            filter_subjects=self.filter_subjects,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=overrides.get("ack_wait_seconds", self.ack_wait_seconds),
            max_deliver=overrides.get("max_deliver", self.max_deliver),
            max_ack_pending=self.max_ack_pending,
        )


@dataclass(frozen=True)
class Topology:
    streams: list[StreamDefinition]
    consumers: list[ConsumerDefinition]
    """The durables of events, as deploy/nats/jetstream.yaml lists them."""
    advisory_consumers: list[ConsumerDefinition] = field(default_factory=list)
    """One durable of ADVISORIES per service, filtered on the advisories of that service's own durables."""

    def consumers_of(self, service: str) -> list[ConsumerDefinition]:
        return [c for c in self.consumers if c.service == service]

    def advisory_consumer_of(self, service: str) -> ConsumerDefinition | None:
        return next((c for c in self.advisory_consumers if c.service == service), None)


def advisory_consumers(consumers: list[ConsumerDefinition], defaults: dict[str, Any]) -> list[ConsumerDefinition]:
    """Derived from the event durables, so a new durable's advisories are read without another line in deploy/."""
    services = sorted({consumer.service for consumer in consumers})
    return [
        ConsumerDefinition(
            **{
                **defaults,
                "service": service,
                "stream": ADVISORY_STREAM,
                "durable": advisory_durable(service),
                "filter_subjects": [
                    subject
                    for consumer in consumers
                    if consumer.service == service
                    for subject in advisory_subjects(consumer.stream, consumer.durable)
                ],
            }
        )
        for service in services
    ]


def load_topology(deploy_dir: Path) -> Topology:
    document = yaml.safe_load((deploy_dir / "nats" / "jetstream.yaml").read_text(encoding="utf-8"))
    defaults = document.get("consumer_defaults", {})
    streams = [StreamDefinition(**entry) for entry in document["streams"]]
    consumers = [ConsumerDefinition(**{**defaults, **entry}) for entry in document["consumers"]]
    advisories = (
        advisory_consumers(consumers, defaults) if any(stream.name == ADVISORY_STREAM for stream in streams) else []
    )
    return Topology(streams=streams, consumers=consumers, advisory_consumers=advisories)


async def provision(nc: Client, topology: Topology, **consumer_overrides: Any) -> None:
    """Create or update every stream and durable consumer; safe to run again."""
    js = nc.jetstream()
    for stream in topology.streams:
        config = stream.config()
        try:
            await js.stream_info(stream.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
        log.info("stream %s provisioned", stream.name)
    for consumer in topology.consumers:
        await js.add_consumer(consumer.stream, consumer.config(**consumer_overrides))
        log.info("consumer %s on %s provisioned", consumer.durable, consumer.stream)
    for consumer in topology.advisory_consumers:  # the overrides are for the event durables under test
        await js.add_consumer(consumer.stream, consumer.config())
        log.info("advisory consumer %s provisioned", consumer.durable)


async def watch_workorders(
    nc: Client,
    site: str,
    department: str,
    history: bool = False,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> Subscription:
    """A live view of one department's work-order events (``pm watch``), allowed to a department user.

    A push consumer of its own, named, with the filter in the API subject
    (``$JS.API.CONSUMER.CREATE.DISPATCH.<name>.<filter>``), which is what a department user's
    permissions allow; nats-py's ordered consumer creates without the filter in the subject (and so is
    refused). No acks and no flow control (nothing to publish back); the server removes the consumer
    a minute after the watcher goes away. Plain nats-py, not FastStream: a throwaway consumer read by a
    terminal, with nothing to ack, decode or route (examples/department_subscriber is the FastStream way
    for a department's own app).
    """
    subject = natsauth.workorder_filter(site, department)
    inbox = nc.new_inbox()
    subscription = await nc.subscribe(inbox)
    config = ConsumerConfig(
        name=f"watch-{secrets.token_hex(6)}",
        filter_subject=subject,
        deliver_subject=inbox,
        deliver_policy=DeliverPolicy.ALL if history else DeliverPolicy.NEW,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
        mem_storage=True,
        num_replicas=1,
    )
    try:
        await nc.jetstream().add_consumer(natsauth.WORKORDER_STREAM, config, timeout=timeout)
    except BaseException:
        await subscription.unsubscribe()
        raise
    return subscription
