"""The server's own word on a lost message: JetStream advisories, recorded as dead letters.

When one of a service's durables gives up on a message, nats-server publishes an advisory:
``$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<durable>`` (``max_deliver`` reached, never acked) or
``...MSG_TERMINATED...`` (someone called ``term()``). The ADVISORIES stream keeps them
(``deploy/nats/jetstream.yaml``) and each service reads those of its own durables through one durable of its
own, ``<service>-advisories`` (``bus.Topology.advisory_consumers``; its NATS user may read nothing else there).

The consumer (``pm_platform.consumer``) records its own dead letters before it terminates a message and
dead-letters a failing one after ``PM_CONSUMER_MAX_ATTEMPTS``, below the server's ``max_deliver``; so an
advisory matters when the service missed the message: the process died mid-delivery every time, the
database refused even the minimal record, or another client terminated it. Such an advisory becomes an open
dead letter (kind ``max_deliveries`` or ``terminated``) with the stream sequence and the delivery count; one
about a message already dead-lettered (the terminate after the service's own record) changes nothing. The
advisory carries no payload: the original stays in its stream under that sequence while the stream keeps it
(``pm stream-message <stream> <sequence>`` fetches it as the provisioner).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from pm_platform.broker import DurablePullSubscriber, durable_subscriber
from pm_platform.envelope import utcnow
from pm_platform.subjects import ADVISORY_KINDS, ADVISORY_PREFIX

if TYPE_CHECKING:
    from faststream.nats import NatsBroker
    from nats.aio.msg import Msg

    from pm_platform.bus import ConsumerDefinition
    from pm_platform.parts import ServiceParts

log = logging.getLogger(__name__)

MAX_REASON = 2000


def kind_of(subject: str) -> str | None:
    """``max_deliveries`` or ``terminated`` for an advisory subject; None for anything else."""
    if not subject.startswith(ADVISORY_PREFIX):
        return None
    return ADVISORY_KINDS.get(subject.removeprefix(ADVISORY_PREFIX).split(".", 1)[0])


def describe(kind: str, advisory: dict[str, Any]) -> str:
    """The dead letter's reason, in the operator's words."""
    stream, sequence, deliveries = advisory.get("stream"), advisory.get("stream_seq"), advisory.get("deliveries")
    if kind == "max_deliveries":
        what = f"server advisory: max deliveries reached ({deliveries} deliveries, never acknowledged)"
    else:
        why = advisory.get("reason")
        what = f"server advisory: message terminated after {deliveries} deliveries" + (f" ({why})" if why else "")
    return (
        f"{what}; the service recorded no dead letter for it. The original is stream {stream} sequence "
        f"{sequence} (`pm stream-message {stream} {sequence}` while the stream keeps it)"
    )[:MAX_REASON]


class AdvisoryRecorder:
    """The service's durable of ADVISORIES, as a FastStream subscriber like its event durables."""

    def __init__(self, parts: ServiceParts, definition: ConsumerDefinition) -> None:
        self.parts = parts
        self.definition = definition
        self.subscriber: DurablePullSubscriber | None = None

    def subscribe(self, broker: NatsBroker) -> DurablePullSubscriber:
        subscriber = durable_subscriber(
            broker,
            stream=self.definition.stream,
            durable=self.definition.durable,
            filter_subjects=self.definition.filter_subjects,
            batch=self.parts.settings.consumer_batch,
            include_in_schema=False,  # the server's messages, not an event of the catalog
        )
        subscriber(self.on_batch)
        self.subscriber = subscriber
        return subscriber

    async def on_batch(self, messages: list[Msg]) -> None:
        for message in messages:
            try:
                await self.record(message)
            except Exception:
                # Not acked: redelivered after ack_wait (the database may be back by then).
                log.exception("%s: recording the advisory %s failed", self.definition.durable, message.subject)
                continue
            await message.ack()

    async def record(self, message: Msg) -> bool:
        """Record the advisory as a dead letter unless its message already has one; True when recorded."""
        kind = kind_of(message.subject)
        try:
            advisory = json.loads(message.data)
        except ValueError:
            advisory = None
        if kind is None or not isinstance(advisory, dict):
            log.warning("%s: not an advisory on %s; ignored", self.definition.durable, message.subject)
            return False
        stream, durable, sequence = advisory.get("stream"), advisory.get("consumer"), advisory.get("stream_seq")
        if not isinstance(stream, str) or not isinstance(durable, str) or not isinstance(sequence, int):
            log.warning("%s: an advisory without stream, consumer or sequence; ignored", self.definition.durable)
            return False
        deliveries = advisory.get("deliveries")
        table = self.parts.tables.dead_letters
        async with self.parts.sessionmaker() as session:
            # The service's own dead letter of the same message (any status: replayed is resolved), or this
            # advisory delivered again: nothing to add.
            known = (
                await session.execute(
                    select(table.c.id)
                    .where(table.c.consumer == durable, table.c.stream == stream, table.c.stream_sequence == sequence)
                    .limit(1)
                )
            ).first()
            if known is not None:
                return False
            await session.execute(
                insert(table).values(
                    consumer=durable[:128],
                    stream=stream[:64],
                    stream_sequence=sequence,
                    subject=message.subject[:255],
                    kind=kind,
                    deliveries=deliveries if isinstance(deliveries, int) else 0,
                    status="open",
                    created_at=utcnow(),
                    payload="",  # the advisory holds none; the stream may still hold the original
                    headers=json.dumps({"advisory": message.data.decode("utf-8", errors="replace")[:1000]}),
                    reason=describe(kind, advisory),
                )
            )
            await session.commit()
        log.error("%s: server advisory (%s) for %s sequence %s", durable, kind, stream, sequence)
        return True
