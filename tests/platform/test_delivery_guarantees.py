"""The delivery guarantees on a real nats-server and real databases (SQLite and PostgreSQL):
nothing is lost, nothing is done twice."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import pytest

from pm_platform import bus
from pm_platform.consumer import SimulatedCrash
from pm_platform.envelope import Envelope
from pm_platform.natsserver import NatsServer
from pm_platform.settings import REPO_ROOT
from tests.platform.harness import Probe, bad_envelope, eventually, provision

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def probes(nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path):
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


async def stream_messages(nats_url: str, stream: str) -> int:
    nc = await bus.connect(nats_url, "test-inspect")
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()


async def settled(nats_url: str, stream: str, durable: str) -> bool:
    """Nothing left to deliver and nothing awaiting an ack: no further delivery can come."""
    nc = await bus.connect(nats_url, "test-inspect")
    try:
        info = await nc.jetstream().consumer_info(stream, durable)
        return info.num_pending == 0 and info.num_ack_pending == 0
    finally:
        await nc.close()


async def test_consumer_crash_after_commit_before_ack_redelivers_and_applies_once(probes, nats_server) -> None:
    producer = await probes("intake", "producer")
    consumer = await probes("dispatch", "probe")
    await producer.runtime.start(consumers=False)
    await consumer.runtime.start(relay=False)
    outcomes: list[str] = []

    async def crash_once(_: Envelope, outcome: str) -> None:
        outcomes.append(outcome)
        if len(outcomes) == 1:
            raise SimulatedCrash("killed after commit, before ack")

    consumer.runtime.consumers[0].after_commit = crash_once
    [request_id] = await producer.emit_requests(1)
    await eventually(lambda: _true_when(len(outcomes) >= 1))
    assert await consumer.effect_counts() == (1, 1)

    # The process is gone; a new one binds to the same durable consumer and gets the redelivery.
    await consumer.restart(relay=False)
    consumer.runtime.consumers[0].after_commit = crash_once
    await eventually(lambda: _true_when(len(outcomes) >= 2), timeout=20)
    assert outcomes == ["handled", "duplicate"]
    assert await consumer.effect_counts() == (1, 1)
    inbox = await consumer.rows(consumer.tables.inbox)
    assert [row["consumer"] for row in inbox] == ["dispatch-from-intake"]
    effects = await consumer.rows(consumer.effects)
    assert effects[0]["request_id"] == request_id


async def test_handler_error_after_commit_before_ack_is_redelivered_and_applied_once(probes) -> None:
    producer = await probes("intake", "producer")
    consumer = await probes("dispatch", "probe")
    await producer.runtime.start(consumers=False)
    await consumer.runtime.start(relay=False)
    outcomes: list[str] = []

    async def ack_fails_once(_: Envelope, outcome: str) -> None:
        outcomes.append(outcome)
        if len(outcomes) == 1:
            raise ConnectionError("connection lost before the ack")

    consumer.runtime.consumers[0].after_commit = ack_fails_once
    await producer.emit_requests(1)
    # Same process: the consumer loop survives, the unacked message comes back after ack_wait (2 s).
    await eventually(lambda: _true_when(len(outcomes) >= 2), timeout=20)
    assert outcomes[:2] == ["handled", "duplicate"]
    assert await consumer.effect_counts() == (1, 1)


async def test_relay_crash_after_puback_before_mark_is_deduplicated(probes, nats_server) -> None:
    producer = await probes("intake", "producer")
    acked: list[list[str]] = []

    async def crash_before_mark(event_ids: list[str]) -> None:
        acked.append(event_ids)
        raise SimulatedCrash("killed after the PubAck, before marking the rows")

    await producer.runtime.start(consumers=False)
    assert producer.runtime.relay is not None
    producer.runtime.relay.after_publish = crash_before_mark
    await producer.emit_requests(5, per_transaction=5)
    await eventually(lambda: _true_when(bool(acked)))
    assert len(acked[0]) == 5
    assert await stream_messages(nats_server.url, "INTAKE") == 5
    pending = [r for r in await producer.rows(producer.tables.outbox) if r["status"] == "pending"]
    assert len(pending) == 5

    await producer.restart(consumers=False)

    async def all_published() -> bool:
        return all(r["status"] == "published" for r in await producer.rows(producer.tables.outbox))

    await eventually(all_published)
    assert await stream_messages(nats_server.url, "INTAKE") == 5


async def test_nats_restart_during_a_burst_loses_nothing_and_duplicates_nothing(probes, nats_server) -> None:
    count = 300
    producer = await probes("intake", "producer")
    dispatch = await probes("dispatch", "probe")
    notification = await probes("notification", "notification")
    await producer.runtime.start(consumers=False)
    await dispatch.runtime.start(relay=False)
    await notification.runtime.start(relay=False)

    async def burst() -> None:
        await producer.emit_requests(count, per_transaction=3)

    async def outage() -> None:
        await asyncio.sleep(0.3)
        nats_server.stop()
        await asyncio.sleep(1.5)
        nats_server.start()

    await asyncio.gather(burst(), outage())

    async def all_applied() -> bool:
        return (await dispatch.effect_counts())[1] == count and (await notification.effect_counts())[1] == count

    await eventually(all_applied, timeout=90, interval=0.5)
    assert await dispatch.effect_counts() == (count, count)
    assert await notification.effect_counts() == (count, count)
    assert await stream_messages(nats_server.url, "INTAKE") == count


async def test_contract_violation_is_dead_lettered_at_once_and_the_consumer_goes_on(probes, nats_server) -> None:
    consumer = await probes("dispatch", "probe")
    await consumer.runtime.start(relay=False)
    nc = await bus.connect(nats_server.url, "test-publisher")
    js = nc.jetstream()
    broken = bad_envelope(request_id=None)
    good = bad_envelope()
    for document in (broken, good):
        await js.publish(
            "intake.request.created.v1.harbour", json.dumps(document).encode(), headers={"Nats-Msg-Id": document["id"]}
        )
    await nc.close()

    async def good_applied() -> bool:
        return (await consumer.effect_counts())[1] == 1

    await eventually(good_applied)
    dead = await consumer.rows(consumer.tables.dead_letters)
    assert len(dead) == 1
    assert dead[0]["kind"] == "contract"
    assert "request_id" in dead[0]["reason"]
    assert dead[0]["deliveries"] == 1
    assert dead[0]["consumer"] == "dispatch-from-intake"
    assert json.loads(dead[0]["payload"]) == broken
    # Terminated, not left to redeliver: nothing pending or awaiting an ack on the durable.
    await eventually(lambda: settled(nats_server.url, "INTAKE", "dispatch-from-intake"))
    assert len(await consumer.rows(consumer.tables.dead_letters)) == 1
    assert [e for e, _ in consumer.deliveries] == [good["id"]]


async def test_transient_failures_are_retried_with_growing_delay_and_succeed(probes) -> None:
    failures = 3
    producer = await probes("intake", "producer")
    consumer = await probes("dispatch", "probe")

    async def fail_k_times(event: Envelope) -> None:
        if len(consumer.deliveries) <= failures:
            raise TimeoutError("database briefly unavailable")

    consumer.fail = fail_k_times
    await producer.runtime.start(consumers=False)
    await consumer.runtime.start(relay=False)
    await producer.emit_requests(1)

    async def applied() -> bool:
        return (await consumer.effect_counts())[0] == 1

    await eventually(applied, timeout=30)
    times = [t for _, t in consumer.deliveries]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(times) == failures + 1
    # nak(delay) grows: 0.2 s, 0.4 s, 0.8 s. A delay is a floor (the server never redelivers sooner) while a busy
    # machine only adds to a gap, so each gap is held to its own floor rather than to the gap before it.
    for gap, floor in zip(gaps, (0.2, 0.4, 0.8), strict=True):
        assert gap >= floor * 0.95, (gaps, floor)
    assert await consumer.rows(consumer.tables.dead_letters) == []
    assert await consumer.effect_counts() == (1, 1)


async def test_retries_exhausted_become_a_dead_letter_that_replays_once_after_a_fix(probes) -> None:
    producer = await probes("intake", "producer")
    consumer = await probes("dispatch", "probe", consumer_max_attempts=3)
    broken = True

    async def bug(_: Envelope) -> None:
        if broken:
            raise KeyError("unit_area")

    consumer.fail = bug
    await producer.runtime.start(consumers=False)
    await consumer.runtime.start(relay=False)
    await producer.emit_requests(1)

    async def dead_lettered() -> bool:
        return len(await consumer.rows(consumer.tables.dead_letters)) == 1

    await eventually(dead_lettered, timeout=30)
    [dead] = await consumer.rows(consumer.tables.dead_letters)
    assert dead["kind"] == "transient" and dead["deliveries"] == 3 and "unit_area" in dead["reason"]
    assert len(consumer.deliveries) == 3

    from pm_platform.deadletters import replay_dead_letter

    broken = False
    assert await replay_dead_letter(consumer.runtime, dead["id"]) == "handled"
    assert await consumer.effect_counts() == (1, 1)
    [dead] = await consumer.rows(consumer.tables.dead_letters)
    assert dead["status"] == "replayed"


async def test_provisioned_consumers_have_the_configured_server_side_settings(nats_server) -> None:
    await provision(nats_server.url)
    nc = await bus.connect(nats_server.url, "test-inspect")
    try:
        js = nc.jetstream()
        info = await js.consumer_info("INTAKE", "dispatch-from-intake")
        assert info.config.ack_wait == 30
        assert info.config.max_deliver == 20
        assert info.config.durable_name == "dispatch-from-intake"
        topology = bus.load_topology(REPO_ROOT / "deploy")
        [declared] = [c for c in topology.consumers if c.durable == "dispatch-from-intake"]
        assert info.config.filter_subjects == declared.filter_subjects
        assert "intake.request.created.v1.>" in declared.filter_subjects
        stream = await js.stream_info("INTAKE")
        assert stream.config.duplicate_window == 7200
    finally:
        await nc.close()


async def _true_when(value: bool) -> bool:
    return value


async def test_a_failure_inside_a_batch_leaves_the_rest_of_the_batch_applied_once(probes, nats_server) -> None:
    """The consumer commits a fetched batch in one transaction; one failing event must neither block nor
    double the others, and is retried on its own."""
    producer = await probes("intake", "producer")
    consumer = await probes("dispatch", "probe")
    await producer.runtime.start(consumers=False)
    ids = await producer.emit_requests(40, per_transaction=40)
    unlucky = ids[17]
    failed_once: list[str] = []

    async def fail_once(event: Envelope) -> None:
        if event.data["request_id"] == unlucky and not failed_once:
            failed_once.append(event.id)
            raise ConnectionError("the handler's dependency blinked")

    consumer.fail = fail_once
    await eventually(lambda: _true_when(producer.runtime.relay is not None and producer.runtime.relay.published == 40))
    # The whole burst is in the stream before the consumer starts, so its first fetch is one batch.
    await consumer.runtime.start(relay=False)

    async def all_applied() -> bool:
        return await consumer.effect_counts() == (40, 40)

    await eventually(all_applied, timeout=30)
    # Every message acked, so nothing more arrives: no double effects from the rolled-back batch.
    await eventually(lambda: settled(nats_server.url, "INTAKE", "dispatch-from-intake"))
    assert await consumer.effect_counts() == (40, 40)
    assert failed_once and await consumer.rows(consumer.tables.dead_letters) == []
    inbox = await consumer.rows(consumer.tables.inbox)
    assert len(inbox) == 40
