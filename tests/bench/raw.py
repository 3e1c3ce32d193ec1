"""The raw limits, measured with plain nats-py on the same nats-server build: JetStream publish with 500
PubAcks in flight, and a hand-written relay (fetch, validate with pydantic, publish, ack)."""

from __future__ import annotations

import asyncio
import time

from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

from pm_platform import bus
from pm_platform.envelope import Envelope
from tests.bench.common import intake_envelope, publish_all

IN_FLIGHT = 500
FETCH_BATCH = 256


async def raw_publish(nats_url: str, count: int, in_flight: int = IN_FLIGHT) -> float:
    """JetStream publish of ``count`` real envelopes with ``in_flight`` PubAcks outstanding; msg/s."""
    nc = await bus.connect(nats_url, "bench-raw-publish")
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="RAWPUB", subjects=["rawpub.>"], storage=StorageType.FILE))
        envelopes = [intake_envelope() for _ in range(count)]
        messages = [(f"rawpub.{e.nats_subject}", e.to_json(), e.id) for e in envelopes]
        started = time.perf_counter()
        await publish_all(nc, messages, in_flight)
        elapsed = time.perf_counter() - started
        stored = (await js.stream_info("RAWPUB")).state.messages
        if stored != count:
            raise RuntimeError(f"raw publish: {stored} of {count} messages stored")
        return count / elapsed
    finally:
        await nc.close()


async def raw_relay(nats_url: str, count: int, batch: int = FETCH_BATCH) -> float:
    """Preload ``count`` envelopes into stream A, then relay them to stream B: fetch(batch) from a durable
    pull consumer, validate each with pydantic, publish_async with Nats-Msg-Id, await the PubAcks, ack."""
    nc = await bus.connect(nats_url, "bench-raw-relay")
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="RELAY_A", subjects=["relaya.>"], storage=StorageType.FILE))
        await js.add_stream(StreamConfig(name="RELAY_B", subjects=["relayb.>"], storage=StorageType.FILE))
        envelopes = [intake_envelope() for _ in range(count)]
        await publish_all(nc, [(f"relaya.{e.nats_subject}", e.to_json(), e.id) for e in envelopes])
        await js.add_consumer(
            "RELAY_A",
            ConsumerConfig(durable_name="relay", ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=1000),
        )
        subscription = await js.pull_subscribe_bind("relay", "RELAY_A")

        started = time.perf_counter()
        relayed = 0
        while relayed < count:
            messages = await subscription.fetch(batch, timeout=5)
            futures = []
            for message in messages:
                envelope = Envelope.model_validate_json(message.data)
                futures.append(
                    await js.publish_async(
                        f"relayb.{envelope.nats_subject}", message.data, headers={"Nats-Msg-Id": envelope.id}
                    )
                )
            await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
            for message in messages:
                await message.ack()
            relayed += len(messages)
        await nc.flush()
        elapsed = time.perf_counter() - started

        stored = (await js.stream_info("RELAY_B")).state.messages
        if stored != count:
            raise RuntimeError(f"raw relay: {stored} of {count} messages in stream B")
        return count / elapsed
    finally:
        await nc.close()
