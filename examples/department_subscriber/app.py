"""A department's own subscriber: a small FastStream app that receives the department's work orders
(``dispatch.workorder.*.v1.<site>.<department>``) as typed event models, logged in as the department's
read-only NATS user (``dept-<site>-<department>``, see ``pm nats-credentials``).

What that user may do (``pm_platform.natsauth.department_reader``): create a consumer of the DISPATCH
stream whose filter is its own work orders (the filter is in the API subject the server checks) and read
its own reply inbox (``_INBOX_<user>``); nothing else. So the subscriber is a push consumer with a name
and that filter, delivering to the user's inbox, without acks (the user may not publish an ack) and in
memory: the server removes it a minute after the app goes away. It never declares the stream.

Run it (see README.md):

    DEPARTMENT_SITE=harbour DEPARTMENT=engineering PM_NATS_USER=dept-harbour-engineering \\
    PM_NATS_PASSWORD=... .venv/bin/python -m examples.department_subscriber
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faststream import AckPolicy, FastStream
from faststream.nats import JStream, NatsBroker
from faststream.security import SASLPlaintext
from nats.js.api import AckPolicy as ServerAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy

from pm_events.dispatch import WorkOrderCompleted, WorkOrderCreated, WorkOrderStatusChanged, WorkOrderTimeLimit
from pm_platform import natsauth
from pm_platform.envelope import Envelope

log = logging.getLogger("department_subscriber")

WorkOrderEvent = WorkOrderCreated | WorkOrderStatusChanged | WorkOrderCompleted | WorkOrderTimeLimit
MODELS: dict[str, type[WorkOrderEvent]] = {
    model.event_type: model
    for model in (WorkOrderCreated, WorkOrderStatusChanged, WorkOrderCompleted, WorkOrderTimeLimit)
}
OnWorkOrder = Callable[[Envelope, WorkOrderEvent], Awaitable[None]]


@dataclass(frozen=True)
class Department:
    site: str  # "*": every site (head office's dept-all-<department> user)
    department: str
    nats_url: str = "nats://127.0.0.1:4333"
    password: str = ""
    history: bool = False  # also the work orders the stream already holds

    @property
    def user(self) -> str:
        return natsauth.department_user(self.site, self.department)

    @property
    def subject(self) -> str:
        return natsauth.workorder_filter(self.site, self.department)

    @classmethod
    def from_env(cls) -> Department:
        site, department = os.environ["DEPARTMENT_SITE"], os.environ["DEPARTMENT"]
        expected = natsauth.department_user(site, department)
        if os.environ.get("PM_NATS_USER", expected) != expected:
            raise SystemExit(f"PM_NATS_USER must be {expected} for {department} at {site}")
        return cls(
            site=site,
            department=department,
            nats_url=os.environ.get("PM_NATS_URL", cls.nats_url),
            password=os.environ.get("PM_NATS_PASSWORD", ""),
            history=os.environ.get("DEPARTMENT_HISTORY", "") not in ("", "0", "false"),
        )


def create_broker(department: Department, on_work_order: OnWorkOrder) -> NatsBroker:
    """The broker, logged in as the department's user, with one subscriber for its work orders."""
    broker = NatsBroker(
        department.nats_url,
        name=department.user,
        security=SASLPlaintext(username=department.user, password=department.password),
        inbox_prefix=natsauth.inbox_prefix(department.user),  # the one inbox the user may read
        max_reconnect_attempts=-1,
    )
    subscriber = broker.subscriber(
        department.subject,
        stream=JStream(natsauth.WORKORDER_STREAM, declare=False),
        # A named consumer: nats-py then puts the filter in the API subject, which the server checks.
        config=ConsumerConfig(
            name=f"{department.user}-{secrets.token_hex(4)}",
            ack_policy=ServerAckPolicy.NONE,
            inactive_threshold=60.0,
            mem_storage=True,
            num_replicas=1,
        ),
        deliver_policy=DeliverPolicy.ALL if department.history else DeliverPolicy.NEW,
        ack_policy=AckPolicy.MANUAL,  # nothing to ack: the consumer takes no acks
    )

    @subscriber
    async def work_order(envelope: Envelope) -> None:
        """FastStream validates the body as the CloudEvents envelope; its data becomes the typed model."""
        model = MODELS.get(envelope.type)
        if model is None:
            log.warning("%s: an event type this app does not know (%s); skipped", envelope.id, envelope.type)
            return
        await on_work_order(envelope, model.model_validate(envelope.data))

    return broker


async def print_work_order(envelope: Envelope, event: WorkOrderEvent) -> None:
    """What a department's screen or ticket printer would get: one line per event."""
    match event:
        case WorkOrderCreated():
            line = f"new {event.priority} work order {event.work_order_id}: {event.description or event.category}"
        case WorkOrderStatusChanged():
            line = f"{event.work_order_id}: {event.from_status} -> {event.to_status}"
        case WorkOrderCompleted():
            line = f"{event.work_order_id} completed: {event.result}"
        case WorkOrderTimeLimit():
            line = f"{event.work_order_id}: {event.limit} time limit {event.stage} (due {event.due_at})"
    print(f"[{envelope.site}/{envelope.department}] {line}", flush=True)


def create_app(department: Department | None = None, on_work_order: OnWorkOrder = print_work_order) -> FastStream:
    return FastStream(create_broker(department or Department.from_env(), on_work_order))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(create_app().run())
