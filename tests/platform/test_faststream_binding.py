"""The services' consumers are FastStream subscribers bound by name: they never create a durable that is not
provisioned, and binding leaves the provisioned server-side config exactly as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pm_platform import bus
from pm_platform.broker import DurablePullSubscriber
from pm_platform.natsserver import NatsServer
from pm_platform.settings import REPO_ROOT
from tests.platform.harness import Probe, eventually, provision

TOPOLOGY = bus.load_topology(REPO_ROOT / "deploy")


async def test_subscribers_bind_without_creating_or_changing_a_consumer(
    nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path
) -> None:
    nc = await bus.connect(nats_server.url, "test-inspect")
    js = nc.jetstream()
    probe = Probe("notification", database_urls["probe"], nats_server.url, tmp_path)
    try:
        for stream in TOPOLOGY.streams:  # the streams, not yet the durables
            await js.add_stream(stream.config())
        await probe.create_schema()
        await probe.runtime.start(relay=False)
        runners = list(probe.runtime.consumers)
        assert sorted(r.durable for r in runners) == sorted(c.durable for c in TOPOLOGY.consumers_of("notification"))
        assert probe.runtime.broker is not None
        # The event durables and the one of the server's advisories about them (pm_platform.advisories).
        advisories = probe.runtime.advisories
        assert advisories is not None and advisories.definition == TOPOLOGY.advisory_consumer_of("notification")
        subscribers = [r.subscriber for r in runners] + [advisories.subscriber]
        assert {id(s) for s in subscribers} == {id(s) for s in probe.runtime.broker.subscribers}
        assert all(isinstance(s, DurablePullSubscriber) for s in subscribers)
        await asyncio.sleep(1.5)  # several fetches against missing durables
        for stream in TOPOLOGY.streams:
            assert await js.consumers_info(stream.name) == []

        await provision(nats_server.url)
        durables = [*TOPOLOGY.consumers, *TOPOLOGY.advisory_consumers]
        provisioned = {c.durable: (await js.consumer_info(c.stream, c.durable)).config for c in durables}

        async def ready() -> bool:
            return (await probe.runtime.readiness())["consumers"]

        await eventually(ready, timeout=10)
        await asyncio.sleep(1.5)
        for consumer in durables:
            assert (await js.consumer_info(consumer.stream, consumer.durable)).config == provisioned[consumer.durable]
    finally:
        await probe.runtime.stop()
        await nc.close()
