"""The consumer's own ways to be wedged by one message, each on a real nats-server and both backends: a batch
that fails after its commit, text PostgreSQL refuses (in a handler, in the dead letter itself), and a dead
letter that cannot be recorded in full or at all."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pm_platform import bus
from pm_platform.consumer import ConsumerRunner
from pm_platform.envelope import Envelope
from pm_platform.errors import Conflict
from pm_platform.natsserver import NatsServer
from tests.platform.harness import Probe, bad_envelope, eventually, provision

pytestmark = pytest.mark.timeout(120)

SUBJECT = "intake.request.created.v1.harbour"
MakeProbe = Callable[..., Awaitable[Probe]]


@pytest.fixture
async def probes(nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path) -> AsyncIterator[MakeProbe]:
    await provision(nats_server.url, ack_wait_seconds=2.0)
    made: list[Probe] = []

    async def make(service: str, db: str, **settings: object) -> Probe:
        probe = Probe(service, database_urls[db], nats_server.url, tmp_path / service, **settings)
        await probe.create_schema()
        made.append(probe)
        return probe

    yield make
    for probe in made:
        await probe.runtime.stop()


async def publish(nats_url: str, *bodies: bytes, headers: dict[str, str] | None = None) -> list[int]:
    """Publish raw bodies on the created subject; their stream sequences."""
    nc = await bus.connect(nats_url, "test-publisher")
    try:
        js = nc.jetstream()
        return [(await js.publish(SUBJECT, body, headers=headers)).seq for body in bodies]
    finally:
        await nc.close()


async def pending(nats_url: str, durable: str = "dispatch-from-intake") -> tuple[int, int]:
    nc = await bus.connect(nats_url, "test-inspect")
    try:
        info = await nc.jetstream().consumer_info("INTAKE", durable)
        return int(info.num_pending), int(info.num_ack_pending)
    finally:
        await nc.close()


def is_postgres(probe: Probe) -> bool:
    return probe.settings.database_url.startswith("postgresql")


async def test_a_batch_that_fails_after_its_commit_does_not_end_the_consumer(
    probes: MakeProbe, nats_server: NatsServer
) -> None:
    consumer = await probes("dispatch", "probe")
    outcomes: list[str] = []

    async def ack_fails_once(_: Envelope, outcome: str) -> None:
        outcomes.append(outcome)
        if len(outcomes) == 1:
            raise ConnectionError("connection lost before the acks")

    # Published before the consumer starts, so one fetch returns them as one batch.
    first, second = bad_envelope(), bad_envelope()
    await publish(nats_server.url, json.dumps(first).encode(), json.dumps(second).encode())
    await consumer.runtime.start(relay=False)
    [runner] = consumer.runtime.consumers
    runner.after_commit = ack_fails_once

    async def both_acked() -> bool:
        return await pending(nats_server.url) == (0, 0) and len(outcomes) >= 3

    await eventually(both_acked, timeout=30)
    assert runner.bound and all(not task.done() for task in consumer.runtime._tasks)
    assert await consumer.effect_counts() == (2, 2)
    assert sorted(outcomes[2:]) == ["duplicate"] * len(outcomes[2:])  # the unacked one, redelivered: no effect


async def test_text_the_database_refuses_in_a_handler_is_a_dead_letter_at_once(
    probes: MakeProbe, nats_server: NatsServer
) -> None:
    consumer = await probes("dispatch", "probe")
    await consumer.runtime.start(relay=False)
    nul = bad_envelope(request_id="req-\x00-nul")
    good = bad_envelope()
    await publish(nats_server.url, json.dumps(nul).encode(), json.dumps(good).encode())

    async def settled() -> bool:
        return (await consumer.effect_counts())[1] >= (1 if is_postgres(consumer) else 2) and await pending(
            nats_server.url
        ) == (0, 0)

    await eventually(settled, timeout=30)
    dead = await consumer.rows(consumer.tables.dead_letters)
    if is_postgres(consumer):  # PostgreSQL refuses NUL in text: the same on every delivery, so not retried
        [letter] = dead
        assert (letter["kind"], letter["deliveries"], letter["event_id"]) == ("contract", 1, nul["id"])
        assert "CharacterNotInRepertoire" in letter["reason"]
        assert json.loads(letter["payload"]) == nul  # the payload holds the escape \u0000, not a NUL
    else:
        assert dead == []
    assert {row["event_id"] for row in await consumer.rows(consumer.effects)} >= {good["id"]}


async def test_a_domain_error_in_a_handler_is_a_dead_letter_at_once_and_a_transient_error_is_retried(
    probes: MakeProbe, nats_server: NatsServer
) -> None:
    consumer = await probes("dispatch", "probe")
    refused, flaky = bad_envelope(), bad_envelope()
    attempts: dict[str, int] = {}

    async def fail(event: Envelope) -> None:
        attempts[event.id] = attempts.get(event.id, 0) + 1
        if event.id == refused["id"]:  # the same on every delivery: the event asks what cannot be done
            raise Conflict(f"request {event.data['request_id']} is already closed", field="request_id")
        if attempts[event.id] == 1:
            raise ConnectionError("the database went away")

    consumer.fail = fail
    await consumer.runtime.start(relay=False)
    await publish(nats_server.url, json.dumps(refused).encode(), json.dumps(flaky).encode())

    async def settled() -> bool:
        return (await consumer.effect_counts())[1] >= 1 and await pending(nats_server.url) == (0, 0)

    await eventually(settled, timeout=30)
    [letter] = await consumer.rows(consumer.tables.dead_letters)
    assert (letter["event_id"], letter["deliveries"]) == (refused["id"], 1)
    assert letter["reason"] == f"Conflict: request {refused['data']['request_id']} is already closed"
    assert attempts == {refused["id"]: 1, flaky["id"]: 2}
    assert {row["event_id"] for row in await consumer.rows(consumer.effects)} == {flaky["id"]}


async def test_a_body_with_a_raw_nul_invalid_utf8_and_hostile_headers_is_recorded_sanitized(
    probes: MakeProbe, nats_server: NatsServer
) -> None:
    consumer = await probes("dispatch", "probe")
    await consumer.runtime.start(relay=False)
    good = bad_envelope()
    hostile = b'{"id": "x\x00y", "type": "\xff\xfe"}'
    headers = {"traceparent": "00-not-a-trace", "tracestate": "ü=" + "v" * 5000}
    [sequence, _] = await publish(nats_server.url, hostile, json.dumps(good).encode(), headers=headers)

    async def settled() -> bool:
        return (await consumer.effect_counts())[1] == 1 and await pending(nats_server.url) == (0, 0)

    await eventually(settled, timeout=30)
    [letter] = await consumer.rows(consumer.tables.dead_letters)
    assert (letter["kind"], letter["stream"], letter["stream_sequence"]) == ("contract", "INTAKE", sequence)
    assert letter["payload"] == '{"id": "x\\x00y", "type": "\\xff\\xfe"}'
    assert f"the original is stream INTAKE sequence {sequence}" in letter["reason"]
    stored_headers = json.loads(letter["headers"])
    assert stored_headers["traceparent"] == "00-not-a-trace"
    assert stored_headers["tracestate"] == headers["tracestate"][:1000]


async def test_a_dead_letter_that_cannot_be_stored_in_full_is_stored_minimal(
    probes: MakeProbe, nats_server: NatsServer
) -> None:
    consumer = await probes("dispatch", "probe")
    await consumer.runtime.start(relay=False)
    [runner] = consumer.runtime.consumers
    refuse_first = _failing_inserts(runner, 1)
    [sequence] = await publish(nats_server.url, b"not json")

    async def recorded() -> bool:
        return bool(await consumer.rows(consumer.tables.dead_letters)) and await pending(nats_server.url) == (0, 0)

    await eventually(recorded, timeout=30)
    [letter] = await consumer.rows(consumer.tables.dead_letters)
    assert refuse_first == [1]
    assert (letter["payload"], letter["stream_sequence"], letter["kind"]) == ("", sequence, "contract")
    assert "only a minimal record" in letter["reason"] and "not JSON" in letter["reason"]


async def test_a_dead_letter_that_cannot_be_stored_at_all_is_retried_not_lost(
    probes: MakeProbe, nats_server: NatsServer
) -> None:
    consumer = await probes("dispatch", "probe")
    await consumer.runtime.start(relay=False)
    [runner] = consumer.runtime.consumers
    refused = _failing_inserts(runner, 2)  # the full and the minimal record of the first delivery
    good = bad_envelope()
    await publish(nats_server.url, b"not json", json.dumps(good).encode())

    async def recorded() -> bool:
        return bool(await consumer.rows(consumer.tables.dead_letters)) and await pending(nats_server.url) == (0, 0)

    await eventually(recorded, timeout=30)
    [letter] = await consumer.rows(consumer.tables.dead_letters)
    assert refused == [1, 2]
    assert letter["deliveries"] == 2 and letter["payload"] == "not json"
    assert await consumer.effect_counts() == (1, 1)  # the next message was not held up


def _failing_inserts(runner: ConsumerRunner, count: int) -> list[int]:
    """Make the runner's first ``count`` dead-letter inserts fail as a database that is down would."""
    refused: list[int] = []
    insert = runner._insert_dead_letter

    async def failing(values: dict[str, Any]) -> None:
        if len(refused) < count:
            refused.append(len(refused) + 1)
            raise ConnectionError("database unavailable")
        await insert(values)

    runner._insert_dead_letter = failing  # type: ignore[method-assign]
    return refused
