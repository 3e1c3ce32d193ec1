"""/readyz tells the truth: NATS reachable is not enough, the provisioned durable consumers must exist."""

from __future__ import annotations

from pathlib import Path

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
