"""/readyz tells the truth: NATS reachable is not enough, the provisioned durable consumers must exist, run
and keep up (the outage itself, on a service process: test_readiness_outage)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pm_platform.envelope import Envelope
from pm_platform.natsserver import NatsServer
from tests.platform.harness import Probe, eventually, provision


async def test_readiness_waits_for_the_provisioned_consumers(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> None:
    probe = Probe("dispatch", database_urls["probe"], nats_server.url, tmp_path)
    await probe.create_schema()
    await probe.runtime.start(relay=False)
    try:
        ready = await probe.runtime.readiness()
        assert ready["database"] and ready["nats"]
        assert ready["consumers"] is False  # streams and durables are not provisioned yet

        await provision(nats_server.url)

        async def consumers_ready() -> bool:
            return (await probe.runtime.readiness())["consumers"]

        await eventually(consumers_ready, timeout=10)
    finally:
        await probe.runtime.stop()


async def test_readiness_names_a_consumer_that_fell_far_behind(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> None:
    await provision(nats_server.url)
    producer = Probe("intake", database_urls["producer"], nats_server.url, tmp_path / "producer")
    consumer = Probe(
        "dispatch",
        database_urls["probe"],
        nats_server.url,
        tmp_path / "consumer",
        ready_max_pending=5,
        consumer_batch=1,
    )
    release = asyncio.Event()

    async def held(_: Envelope) -> None:
        await release.wait()

    consumer.fail = held  # the handler waits: the consumer holds one event and falls behind on the rest
    for probe in (producer, consumer):
        await probe.create_schema()
    await producer.runtime.start(consumers=False)
    await consumer.runtime.start(relay=False)
    try:
        await producer.emit_requests(20)

        async def behind() -> bool:
            report = await consumer.runtime.readiness_report()
            return "fallen behind" in report.consumers.get("dispatch-from-intake", "")

        await eventually(behind, timeout=20)
        report = await consumer.runtime.readiness_report()
        # The database check answers although the held handler keeps a write transaction open (SQLite).
        assert report.checks == {"database": True, "nats": True, "consumers": False, "tasks": True}, report
        assert "dispatch-from-intake: fallen behind" in report.reasons["consumers"]

        release.set()

        async def caught_up() -> bool:
            return (await consumer.effect_counts())[1] == 20

        await eventually(caught_up, timeout=30)
        assert (await consumer.runtime.readiness_report()).ready
    finally:
        release.set()
        await consumer.runtime.stop()
        await producer.runtime.stop()


async def test_readiness_names_a_consumer_that_stopped(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> None:
    await provision(nats_server.url)
    probe = Probe("dispatch", database_urls["probe"], nats_server.url, tmp_path)
    await probe.create_schema()
    await probe.runtime.start(relay=False)
    try:

        async def ready() -> bool:
            return (await probe.runtime.readiness_report()).ready

        await eventually(ready, timeout=10)
        (runner,) = probe.runtime.consumers
        assert runner.subscriber is not None
        for task in runner.subscriber.tasks:  # its fetch loop ends, as a crash of FastStream's task would end it
            task.cancel()
        await asyncio.wait(runner.subscriber.tasks)

        report = await probe.runtime.readiness_report()
        assert not report.ready and report.checks["consumers"] is False
        assert report.consumers == {"dispatch-from-intake": "stopped: its fetch loop ended"}
    finally:
        await probe.runtime.stop()
