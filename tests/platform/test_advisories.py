"""JetStream's advisories in the dead-letter list, on a real nats-server and both backends: a message that hits the
server's max_deliver before the service gives up on it, a message another client terminated while the service
was down, and the terminate that follows the service's own dead letter (which adds nothing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from pm_platform import bus, cli
from pm_platform.app import create_app
from pm_platform.auth import mint_token
from pm_platform.deadletters import subject_site
from pm_platform.envelope import Envelope
from pm_platform.natsserver import NatsServer
from pm_platform.subjects import ADVISORY_STREAM, advisory_durable, advisory_subjects
from tests.platform.harness import Probe, bad_envelope, eventually, provision

pytestmark = pytest.mark.timeout(120)

SUBJECT = "intake.request.created.v1.harbour"
DURABLE = "dispatch-from-intake"


async def publish(nats_url: str, body: bytes) -> int:
    nc = await bus.connect(nats_url, "test-publisher")
    try:
        return int((await nc.jetstream().publish(SUBJECT, body)).seq)
    finally:
        await nc.close()


async def advisories_settled(nats_url: str, service: str = "dispatch") -> bool:
    """The service's advisory durable has received something and has nothing left to deliver or ack."""
    nc = await bus.connect(nats_url, "test-inspect")
    try:
        info = await nc.jetstream().consumer_info(ADVISORY_STREAM, advisory_durable(service))
    finally:
        await nc.close()
    return bool(info.delivered and info.delivered.stream_seq) and info.num_pending == 0 and info.num_ack_pending == 0


@pytest.fixture
async def dispatch(nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path) -> AsyncIterator[Probe]:
    """dispatch-from-intake with max_deliver 2 on the server, while the service itself would try 10 times."""
    await provision(nats_server.url, max_deliver=2, ack_wait_seconds=2.0)
    probe = Probe("dispatch", database_urls["probe"], nats_server.url, tmp_path, consumer_max_attempts=10)
    await probe.create_schema()
    yield probe
    await probe.runtime.stop()


async def stream_message(nats_url: str, sequence: int) -> Result:
    """``pm stream-message INTAKE <sequence>`` (in a thread: the command runs its own event loop)."""
    arguments = ["stream-message", "INTAKE", str(sequence), "--nats-url", nats_url]
    return await asyncio.to_thread(CliRunner().invoke, cli.app, arguments)


def client_of(probe: Probe) -> httpx.AsyncClient:
    app: FastAPI = create_app(probe.runtime, title="probe", routers=[])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def operator(probe: Probe, sites: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(probe.settings, "ops", ["operator"], sites or ["*"])}


async def dead_letters(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/admin/dead-letters", headers=headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def the_dead_letter(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """The one open dead letter, once it is there."""

    async def listed() -> bool:
        return bool(await dead_letters(client, headers))

    await eventually(listed, timeout=30)
    [row] = await dead_letters(client, headers)
    return row


async def test_a_message_that_hits_max_deliveries_shows_as_an_advisory(
    dispatch: Probe, nats_server: NatsServer
) -> None:
    async def always_fails(_: Envelope) -> None:
        raise RuntimeError("the department's roster is unreachable")

    dispatch.fail = always_fails
    sequence = await publish(nats_server.url, json.dumps(bad_envelope()).encode())
    await dispatch.runtime.start(relay=False)
    async with client_of(dispatch) as client:
        headers = operator(dispatch)
        row = await the_dead_letter(client, headers)
        assert row["kind"] == "max_deliveries"
        assert (row["consumer"], row["stream"], row["stream_sequence"]) == (DURABLE, "INTAKE", sequence)
        assert row["deliveries"] == 2
        assert row["subject"] == advisory_subjects("INTAKE", DURABLE)[0]
        assert "max deliveries reached" in row["reason"] and f"INTAKE sequence {sequence}" in row["reason"]
        assert row["status"] == "open" and row["payload"] == ""
        assert len(dispatch.deliveries) == 2, "the server stopped at its max_deliver, before the service's attempts"

        # Only an operator of every site sees it: the advisory names no site.
        assert await dead_letters(client, operator(dispatch, ["harbour"])) == []
        # It holds no message to replay: 409 and what to do instead; the record stays open.
        replay = await client.post(f"/admin/dead-letters/{row['id']}/replay", headers=headers)
        assert replay.status_code == 409, replay.text
        assert replay.headers["content-type"].startswith("application/problem+json")
        assert f"pm stream-message INTAKE {sequence}" in replay.json()["detail"]
        assert (await client.get(f"/admin/dead-letters/{row['id']}", headers=headers)).json()["status"] == "open"

        # The original, while the stream keeps it, by its sequence.
        result = await stream_message(nats_server.url, sequence)
        assert result.exit_code == 0, result.output
        assert f"subject: {SUBJECT}" in result.output
        assert json.loads(result.output.split("\n\n", 1)[1])["type"] == "intake.request.created.v1"
        missing = await stream_message(nats_server.url, 999)
        assert missing.exit_code == 1 and "no longer holds sequence 999" in missing.output

        # Discarded like any dead letter.
        discard = await client.post(f"/admin/dead-letters/{row['id']}/discard", headers=headers)
        assert discard.status_code == 200, discard.text
        assert await dead_letters(client, headers) == []


async def test_a_message_terminated_while_the_service_was_down_shows_when_it_starts(
    dispatch: Probe, nats_server: NatsServer
) -> None:
    sequence = await publish(nats_server.url, json.dumps(bad_envelope()).encode())
    # Another client (a tool, an older release) takes the message from the durable and terminates it.
    nc = await bus.connect(nats_server.url, "test-other-client")
    try:
        subscription = await nc.jetstream().pull_subscribe_bind(DURABLE, "INTAKE")
        [message] = await subscription.fetch(1, timeout=5)
        await message.term()
        await nc.flush()
    finally:
        await nc.close()
    await dispatch.runtime.start(relay=False)
    async with client_of(dispatch) as client:
        headers = operator(dispatch)
        row = await the_dead_letter(client, headers)
        assert row["kind"] == "terminated"
        assert (row["consumer"], row["stream"], row["stream_sequence"], row["deliveries"]) == (
            DURABLE,
            "INTAKE",
            sequence,
            1,
        )
        assert "message terminated after 1 deliveries" in row["reason"]
    assert dispatch.deliveries == [], "the service never saw the message"


async def test_the_terminate_after_the_services_own_dead_letter_adds_nothing(
    dispatch: Probe, nats_server: NatsServer
) -> None:
    await dispatch.runtime.start(relay=False)
    broken = bad_envelope(category=None)  # breaks its contract: dead-lettered at once, then terminated
    sequence = await publish(nats_server.url, json.dumps(broken).encode())
    await eventually(lambda: advisories_settled(nats_server.url), timeout=30)
    async with client_of(dispatch) as client:
        [row] = await dead_letters(client, operator(dispatch))
    assert row["kind"] == "contract" and row["stream_sequence"] == sequence and row["payload"]


@pytest.mark.unit
def test_an_advisory_subject_names_no_site() -> None:
    assert subject_site("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.INTAKE.dispatch-from-intake") is None
    assert subject_site(SUBJECT) == "harbour"


@pytest.mark.unit
def test_each_service_reads_the_advisories_of_its_own_durables_only() -> None:
    topology = bus.load_topology(Path(__file__).resolve().parents[2] / "deploy")
    services = {consumer.service for consumer in topology.consumers}
    assert {consumer.service for consumer in topology.advisory_consumers} == services
    for service in services:
        advisory = topology.advisory_consumer_of(service)
        assert advisory is not None and advisory.stream == ADVISORY_STREAM
        assert sorted(advisory.filter_subjects) == sorted(
            subject
            for consumer in topology.consumers_of(service)
            for subject in advisory_subjects(consumer.stream, consumer.durable)
        )
