"""``/metrics`` on a service app against a real nats-server, parsed as Prometheus parses it: HTTP answers by route
template and status, a durable's lag read from JetStream, the outbox backlog and its age, open dead letters and
overdue timers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert
from typer.testing import CliRunner, Result

from pm_platform import cli
from pm_platform.app import create_app
from pm_platform.auth import mint_token
from pm_platform.envelope import utcnow
from pm_platform.natsserver import NatsServer
from tests.platform.harness import Probe, bad_envelope, eventually, provision, publish_bad_envelopes, served

pytestmark = pytest.mark.timeout(120)

SUBJECT = "intake.request.created.v1.harbour"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")  # what every Prometheus reads
    return samples(response.text)


def client_of(probe: Probe) -> httpx.AsyncClient:
    app: FastAPI = create_app(probe.runtime, title="probe", routers=[])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.fixture
async def dispatch(nats_server: NatsServer, database_urls: dict[str, str], tmp_path: Path) -> AsyncIterator[Probe]:
    """A probe named dispatch: it binds dispatch's durables, among them dispatch-from-intake."""
    await provision(nats_server.url)
    probe = Probe("dispatch", database_urls["probe"], nats_server.url, tmp_path)
    await probe.create_schema()
    yield probe
    await probe.runtime.stop()


async def test_metrics_show_http_answers_consumer_lag_outbox_dead_letters_and_timers(
    dispatch: Probe, nats_server: NatsServer
) -> None:
    probe = dispatch
    await publish_bad_envelopes(nats_server.url, SUBJECT, 4)  # nobody consumes them: the durable's backlog is exactly 4
    await probe.runtime.start(relay=False, consumers=False)
    tables = probe.runtime.tables
    async with probe.runtime.sessionmaker() as session:
        # No relay: three outbox rows wait, the oldest written 30 s ago.
        now = utcnow()
        await session.execute(
            insert(tables.outbox),
            [
                {
                    "event_id": envelope["id"],
                    "subject": SUBJECT,
                    "type": envelope["type"],
                    "payload": json.dumps(envelope),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now - timedelta(seconds=seconds),
                    "next_attempt_at": now,
                }
                for seconds, envelope in ((30, bad_envelope()), (10, bad_envelope()), (1, bad_envelope()))
            ],
        )
        await session.execute(
            insert(tables.dead_letters).values(
                consumer="dispatch-from-intake",
                subject=SUBJECT,
                payload="{}",
                kind="terminated",
                reason="test",
                status="open",
                created_at=utcnow(),
            )
        )
        await session.execute(
            insert(tables.timers),
            [
                {"kind": "test.late", "key": "a", "due_at": now - timedelta(minutes=5), "status": "pending"},
                {"kind": "test.late", "key": "b", "due_at": now + timedelta(hours=1), "status": "pending"},
                {"kind": "test.late", "key": "c", "due_at": now - timedelta(hours=1), "status": "fired"},
            ],
        )
        await session.commit()

    async with client_of(probe) as client:
        operator = {"Authorization": "Bearer " + mint_token(probe.settings, "metrics-test", ["operator"], ["*"])}
        assert (await client.get("/admin/dead-letters/424242", headers=operator)).status_code == 404
        assert (await client.get("/admin/dead-letters/434343", headers=operator)).status_code == 404
        assert (await client.get("/ops/consumers")).status_code == 401
        assert (await client.get("/no/such/path/8f3a")).status_code == 404

        found = await scrape(client)

    # HTTP: by route template (never the id in the path), method and status; a path no route matches is one label.
    one = "/admin/dead-letters/{dead_letter_id}"
    assert value(found, "pm_http_requests_total", method="GET", route=one, status="404") == 2
    assert value(found, "pm_http_requests_total", method="GET", route="/ops/consumers", status="401") == 1
    assert value(found, "pm_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert value(found, "pm_http_request_duration_seconds_count", method="GET", route=one) == 2
    assert not any("424242" in str(labels) or "8f3a" in str(labels) for _, labels in found)

    # Consumer lag, from JetStream at scrape time.
    durable = {"stream": "INTAKE", "durable": "dispatch-from-intake"}
    assert value(found, "pm_consumer_pending", **durable) == 4
    assert value(found, "pm_consumer_ack_pending", **durable) == 0
    assert value(found, "pm_consumer_redelivered", **durable) == 0
    assert value(found, "pm_consumer_info_up", **durable) == 1
    expected = {(c.stream, c.durable) for c in probe.runtime.topology.consumers_of("dispatch")}
    up = {(dict(labels)["stream"], dict(labels)["durable"]) for name, labels in found if name == "pm_consumer_info_up"}
    assert up == expected

    # The outbox, the dead letters and the timers.
    assert value(found, "pm_outbox_backlog") == 3
    assert 30 <= value(found, "pm_outbox_oldest_age_seconds") < 90
    assert value(found, "pm_dead_letters_open") == 1
    assert value(found, "pm_timers_overdue") == 1

    # Once the relay runs, the backlog drains and its age goes back to 0; once consumers run, the lag does.
    await probe.restart()
    async with client_of(probe) as client:

        async def caught_up() -> bool:
            found = await scrape(client)
            return (
                value(found, "pm_outbox_backlog") == 0
                and value(found, "pm_outbox_oldest_age_seconds") == 0
                and value(found, "pm_consumer_pending", **durable) == 0
                and value(found, "pm_consumer_ack_pending", **durable) == 0
            )

        await eventually(caught_up, timeout=30)


async def test_a_durable_whose_info_cannot_be_read_is_down_without_a_stale_lag(dispatch: Probe) -> None:
    async with client_of(dispatch) as client:  # never started: no NATS connection
        found = await scrape(client)
    ups = {labels: v for (name, labels), v in found.items() if name == "pm_consumer_info_up"}
    assert ups and set(ups.values()) == {0}
    assert not any(name == "pm_consumer_pending" for name, _ in found)
    assert value(found, "pm_outbox_backlog") == 0

    async with client_of(dispatch) as client:  # a scraper that asks for OpenMetrics gets it
        response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


def invoke_cli(*args: str) -> Result:
    # Wide and plain, so rich's table neither wraps nor colours what the assertions read.
    return CliRunner().invoke(cli.app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_pm_status_shows_readiness_lag_outbox_and_dead_letters_of_each_service(
    dispatch: Probe, nats_server: NatsServer
) -> None:
    probe = dispatch
    await publish_bad_envelopes(nats_server.url, SUBJECT, 2)
    await probe.runtime.start(relay=False, consumers=False)
    async with probe.runtime.sessionmaker() as session:
        await session.execute(
            insert(probe.runtime.tables.dead_letters),
            [
                {
                    "consumer": "dispatch-from-intake",
                    "subject": SUBJECT,
                    "payload": "{}",
                    "kind": "terminated",
                    "reason": "test",
                    "status": "open",
                    "created_at": utcnow(),
                }
            ]
            * 2,
        )
        await session.commit()
    others = ["intake", "billing", "survey", "notification"]
    # Five names for one app answer /readyz at once: on a loaded machine a new PostgreSQL connection can take longer
    # than the half-second check; this test is about what `pm status` shows, not the check's timing.
    probe.runtime.settings.ready_check_timeout_seconds = 10.0

    async with served(create_app(probe.runtime, title="probe", routers=[])) as url:
        # The four others are down (closed ports, never a stack that may run on the default ones).
        down = [f"{name}=http://127.0.0.1:{closed_port()}" for name in others]
        args = ["status", "--url", f"dispatch={url}", *(arg for item in down for arg in ("--url", item))]
        result = await asyncio.to_thread(invoke_cli, *args)
        assert result.exit_code == 1, result.output
        lines = result.stdout.splitlines()
        row = next(line for line in lines if line.startswith("│ dispatch"))
        # service, ready, pending, ack pending, redelivered, outbox, oldest, dead letters
        assert [cell.strip() for cell in row.strip("│").split("│")] == [
            "dispatch",
            "ready",
            "2",
            "0",
            "0",
            "0",
            "-",
            "2",
        ]
        for name in others:
            line = next(line for line in lines if line.startswith(f"│ {name}"))
            assert "unreachable" in line
        behind = next(line for line in lines if "dispatch-from-intake" in line)
        assert [cell.strip() for cell in behind.strip("│").split("│")][:6] == [
            "dispatch",
            "dispatch-from-intake",
            "INTAKE",
            "2",
            "0",
            "0",
        ]
        assert "intake (http://127.0.0.1:" in result.stdout and "unreachable: ConnectError" in result.stdout

        # Every service answering ready (the same app under each name): exit code 0.
        everyone = [arg for name in ["dispatch", *others] for arg in ("--url", f"{name}={url}")]
        result = await asyncio.to_thread(invoke_cli, "status", *everyone)
        assert result.exit_code == 0, result.output
        assert "unreachable" not in result.stdout


def test_pm_status_refuses_a_url_without_a_known_service() -> None:
    result = invoke_cli("status", "--url", "plumbing=http://127.0.0.1:1")
    assert result.exit_code == 2
    assert "SERVICE=URL" in result.output
