"""No poison message halts a stream (issue 7): every service's consumers, on a real nats-server and real
databases (SQLite and PostgreSQL), either handle each hostile message or record it as a dead letter, and go
on to the valid event published after it. The stack starts once per backend; each hypothesis example
publishes a batch of hostile bodies and headers on every durable's filter subjects, then a valid event."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import nats.js.errors
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pm_platform import bus
from pm_platform.auth import mint_token
from pm_platform.contracts import load_catalog
from pm_platform.settings import REPO_ROOT
from tests.conftest import _create_database, _drop_database
from tests.platform.harness import eventually
from tests.platform.hostile import DEEP_ARRAY, LEAP_SECOND, encode, hostile_bodies, hostile_headers, valid_envelope
from tests.platform.stack import SERVICES, Stack

pytestmark = pytest.mark.timeout(240)

# The valid events published after the hostile ones: for each durable, the first of these on its filters.
# A fresh request id each time; the request is created first, so that notification knows its contact
# before the work-order events about it arrive.
CANARIES = [
    "intake.request.created.v1",
    "intake.unit.upserted.v1",
    "dispatch.workorder.status_changed.v1",
    "dispatch.workorder.completed.v1",
    "survey.followup.scheduled.v1",
    "billing.account.status_changed.v1",
    "billing.charge.recorded.v1",
    "billing.dunning.step.v1",
    "notification.message.sent.v1",
    "survey.invitation.requested.v1",
    "notification.broadcast.recipient.v1",
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp(f"hostile-{request.param}")
    urls = {service: f"sqlite+aiosqlite:///{base / (service + '.db')}" for service in SERVICES}
    names: list[str] = []
    admin = ""
    if request.param == "postgres":
        admin = request.getfixturevalue("postgres_admin_url")  # skips, saying why, where no PostgreSQL runs
        prefix = f"pm_hostile_{uuid.uuid4().hex[:8]}"
        for service in SERVICES:
            names.append(f"{prefix}_{service}")
            asyncio.run(_create_database(admin, names[-1]))
            urls[service] = (
                admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{names[-1]}"
            )
    # Quick retries: a hostile message that fails as if transiently reaches its dead letter in about a second.
    stack = Stack(base, urls, consumer_retry_base_seconds=0.05, consumer_retry_max_seconds=0.5, consumer_max_attempts=4)
    try:
        stack.start()
        stack.broadcast_id = stack.run(create_broadcast(stack))
        yield stack
    finally:
        stack.stop()
        for name in names:
            asyncio.run(_drop_database(admin, name))


Batch = list[tuple[bytes, dict[str, str]]]


@dataclass(frozen=True)
class Published:
    subject: str
    stream: str
    sequence: int
    event_id: str | None  # when the body is a valid envelope: what the inbox records if it is handled


def subjects_of(filters: list[str], stack: Stack) -> list[str]:
    """A concrete subject for each filter (``intake.request.created.v1.>`` -> ``...v1.harbour``)."""
    catalog = stack.runtimes["intake"].catalog
    subjects = []
    for pattern in filters:
        event_type = pattern.removesuffix(".>")
        department = ".engineering" if catalog.contract(event_type).has_department else ""
        subjects.append(f"{event_type}.harbour{department}")
    return subjects


def durables_on(stack: Stack, stream: str, subject: str) -> list[str]:
    return [
        c.durable
        for c in stack.topology.consumers
        if c.stream == stream and any(subject.startswith(f.removesuffix(">")) for f in c.filter_subjects)
    ]


async def publish_hostile(stack: Stack, js: Any, batch: Batch) -> list[Published]:
    catalog = stack.runtimes["intake"].catalog
    subjects = sorted({s for c in stack.topology.consumers for s in subjects_of(c.filter_subjects, stack)})
    published = []
    for body, headers in batch:
        try:
            event_id: str | None = catalog.parse(body).id
        except Exception:  # ContractViolation only, once parse is right; the consumers are under test here
            event_id = None
        for subject in subjects:
            sent = dict(headers)
            if "Nats-Msg-Id" in sent:
                # Not the event id, as the report says; unique, or the stream would drop the copies as duplicates.
                sent["Nats-Msg-Id"] = f"{sent['Nats-Msg-Id']}-{uuid.uuid4().hex}"
            try:
                ack = await js.publish(subject, body, headers=sent or None)
            except nats.js.errors.APIError:
                continue  # the server refused it (a header it reserves): nothing reaches a consumer
            if not ack.duplicate:
                published.append(Published(subject, ack.stream, ack.seq, event_id))
    return published


async def create_broadcast(stack: Stack) -> str:
    """A broadcast through notification's API, so that a recipient event about it can be handled."""
    from notification.main import create

    runtime = stack.runtimes["notification"]
    token = mint_token(runtime.settings, "supervisor.harbour", ["supervisor"], ["harbour"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t") as client:
        response = await client.post(
            "/broadcasts",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "site": "harbour",
                "kind": "notice",
                "title": "Hostile test",
                "message": "A notice",
                "unit_ids": ["harbour-A-0101"],
            },
        )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def publish_canaries(stack: Stack, js: Any) -> dict[str, str]:
    """One valid event per canary type any durable needs, in order; returns {durable: event id}."""
    catalog = stack.runtimes["intake"].catalog
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    expected: dict[str, str] = {}
    for event_type in CANARIES:
        waiting = [
            c for c in stack.topology.consumers if c.durable not in expected and f"{event_type}.>" in c.filter_subjects
        ]
        if not waiting:
            continue
        document = valid_envelope(catalog, event_type)
        data = document["data"]
        if "request_id" in data:
            data["request_id"] = document["correlationid"] = request_id
        if "broadcast_id" in data:
            data["broadcast_id"] = stack.broadcast_id
        [subject] = subjects_of([f"{event_type}.>"], stack)
        ack = await js.publish(subject, encode(document), headers={"Nats-Msg-Id": document["id"]})
        for durable in durables_on(stack, ack.stream, subject):
            expected.setdefault(durable, document["id"])
        if event_type == "intake.request.created.v1":

            async def contact_known(event_id: str = document["id"]) -> bool:
                received, _ = await outcomes(stack)
                return ("notification-from-intake", event_id) in received

            await eventually(contact_known, timeout=60)
    assert set(expected) == {c.durable for c in stack.topology.consumers}, "a durable has no canary"
    return expected


async def outcomes(stack: Stack) -> tuple[set[tuple[str, str]], dict[tuple[str, int], dict[str, Any]]]:
    """({(consumer, event id)} of every inbox, {(consumer, stream sequence): dead letter} of every service)."""
    received: set[tuple[str, str]] = set()
    dead: dict[tuple[str, int], dict[str, Any]] = {}
    for service in SERVICES:
        received |= {(row["consumer"], row["event_id"]) for row in await stack.rows(service, "inbox")}
        dead |= {(row["consumer"], row["stream_sequence"]): row for row in await stack.rows(service, "dead_letters")}
    return received, dead


async def check_batch(stack: Stack, batch: Batch) -> None:
    nc = await bus.connect(stack.nats.url, "hostile-publisher")
    try:
        js = nc.jetstream()
        published = await publish_hostile(stack, js, batch)
        canaries = await publish_canaries(stack, js)
        expectations = [
            (durable, item) for item in published for durable in durables_on(stack, item.stream, item.subject)
        ]
        missing: list[str] = []

        async def settled() -> bool:
            received, dead = await outcomes(stack)
            missing[:] = [
                f"canary {event_id} on {durable}"
                for durable, event_id in canaries.items()
                if (durable, event_id) not in received
            ]
            missing.extend(
                f"{item} on {durable}"
                for durable, item in expectations
                if (durable, item.sequence) not in dead
                and (item.event_id is None or (durable, item.event_id) not in received)
            )
            return not missing

        try:
            await eventually(settled, timeout=60, interval=0.2)
        except AssertionError:
            raise AssertionError(f"neither handled nor dead-lettered: {missing[:10]}") from None
        _, dead = await outcomes(stack)
        for durable, item in expectations:
            row = dead.get((durable, item.sequence))
            if row is not None:
                assert row["reason"] and row["stream"] == item.stream and row["subject"] == item.subject

        async def nothing_pending() -> bool:
            for consumer in stack.topology.consumers:
                info = await js.consumer_info(consumer.stream, consumer.durable)
                if info.num_pending or info.num_ack_pending:
                    return False
            return True

        await eventually(nothing_pending, timeout=30, interval=0.2)
        for service, runtime in stack.runtimes.items():
            assert all(not task.done() for task in runtime._tasks), f"a task of {service} ended"
            assert all(consumer.bound for consumer in runtime.consumers), f"a consumer of {service} stopped"
    finally:
        await nc.close()


CATALOG = load_catalog(REPO_ROOT / "contracts")
LEAP_SECOND_BODY = encode({**valid_envelope(CATALOG, "intake.request.created.v1"), "time": LEAP_SECOND})
messages = st.lists(st.tuples(hostile_bodies(CATALOG, sorted(CATALOG.events)), hostile_headers), min_size=1, max_size=3)


@settings(
    max_examples=int(os.environ.get("PM_HOSTILE_EXAMPLES", "8")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(batch=messages)
@example(batch=[(DEEP_ARRAY, {})])
@example(
    batch=[
        (
            LEAP_SECOND_BODY,
            {"Nats-Msg-Id": "not-the-event-id", "traceparent": "00-zz-not-a-trace-01", "tracestate": "ü=" + "v" * 3000},
        )
    ]
)
def test_every_consumer_handles_or_dead_letters_any_message_and_goes_on(stack: Stack, batch: Batch) -> None:
    stack.run(check_batch(stack, batch))


def test_the_stack_runs_every_provisioned_durable(stack: Stack) -> None:
    bound = sorted(c.durable for runtime in stack.runtimes.values() for c in runtime.consumers)
    assert bound == sorted(c.durable for c in stack.topology.consumers)
