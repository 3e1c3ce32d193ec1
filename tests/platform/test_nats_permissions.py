"""NATS credentials against the real nats-server, started with the generated users and permissions.

Each service publishes only its own events and consumes only its own durables; a department user reads
only its site's and department's work orders; anonymous clients are refused. Every refusal is checked
on the server side too (nothing stored, nothing acked), not only by the client's error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import nats.errors
import pytest
import yaml
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from pm_platform import bus, natsauth
from pm_platform.natsserver import NatsServer
from pm_platform.settings import REPO_ROOT
from pm_platform.subjects import ADVISORY_STREAM, advisory_durable
from tests.platform.harness import Probe, eventually

DEPLOY = REPO_ROOT / "deploy"
CONTRACTS = REPO_ROOT / "contracts"
CATALOG = yaml.safe_load((CONTRACTS / "catalog.yaml").read_text())["events"]
TOPOLOGY = bus.load_topology(DEPLOY)
SERVICES = sorted({entry["producer"] for entry in CATALOG.values()})
REFUSED = 1.0  # a refused request gets no reply: the client gives up after this long


@dataclass
class Login:
    nc: Client
    errors: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return [e.lower() for e in self.errors if "permissions violation" in e.lower()]


@dataclass
class Secured:
    server: NatsServer
    passwords: dict[str, str]
    logins: list[Client] = field(default_factory=list)

    async def login(self, user: str) -> Login:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc = await nats.connect(
            self.server.url,
            user=user,
            password=self.passwords[natsauth.password_variable(user)],
            inbox_prefix=natsauth.inbox_prefix(user),
            error_cb=on_error,
            allow_reconnect=False,
        )
        self.logins.append(nc)
        return Login(nc, errors)

    async def admin(self) -> Client:
        return (await self.login(natsauth.PROVISIONER)).nc

    def probe(self, service: str, database_url: str, var_dir: Path) -> Probe:
        """A probe runtime named ``service`` that logs in as that service's user."""
        return Probe(
            service,
            database_url,
            self.server.url,
            var_dir / service,
            nats_user=service,
            nats_password=self.passwords[natsauth.password_variable(service)],
        )

    async def stored(self, stream: str) -> int:
        info = await (await self.admin()).jetstream().stream_info(stream)
        return int(info.state.messages)


@pytest.fixture
def secured_server(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    users = natsauth.build_users(DEPLOY, CONTRACTS)
    passwords = natsauth.generate_passwords(users, natsauth.credentials_file(tmp_path))
    config = tmp_path / "nats-server.conf"
    config.write_text(natsauth.render_config(users))
    server = NatsServer(tmp_path / "nats", config_file=config, env=passwords).start()
    try:
        yield server, passwords
    finally:
        server.stop()


@pytest.fixture
async def secured(secured_server: tuple[NatsServer, dict[str, str]]) -> AsyncIterator[Secured]:
    server, passwords = secured_server
    state = Secured(server, passwords)
    await bus.provision(await state.admin(), TOPOLOGY)
    try:
        yield state
    finally:
        for nc in state.logins:
            if not nc.is_closed:
                await nc.close()


def example_subject(event_type: str, site: str = "harbour", department: str = "engineering") -> str:
    return CATALOG[event_type]["subject"].format(site=site, department=department)


def envelope(event_type: str, **data: Any) -> bytes:
    return json.dumps({"type": event_type, "data": data}).encode()


async def refused_publish(login: Login, subject: str) -> None:
    with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):
        await login.nc.jetstream().publish(subject, b"{}", timeout=REFUSED)
    await eventually(lambda: _async(any(subject.lower() in v for v in login.violations())), timeout=5)


async def _async(value: bool) -> bool:
    return value


# --- anonymous and wrong passwords ------------------------------------------------------------------


async def test_anonymous_connect_is_refused(secured: Secured) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured.server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)


async def test_a_wrong_password_is_refused(secured: Secured) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            secured.server.url,
            user="intake",
            password="not-the-password",
            allow_reconnect=False,
            max_reconnect_attempts=0,
            connect_timeout=2,
        )


async def test_the_platform_client_stops_at_a_refused_login(secured: Secured) -> None:
    """bus.connect never gives up on an unreachable server, but a refused login is not retried forever
    (pm provision, pm watch and a service with a wrong password fail with the reason)."""
    for user, password in (("", ""), ("intake", "not-the-password")):
        with pytest.raises(bus.LoginRefused):
            await asyncio.wait_for(bus.connect(secured.server.url, "test", user, password), timeout=10)


# --- services ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_publishes_its_own_events_and_consumes_its_own_durables(secured: Secured, service: str) -> None:
    login = await secured.login(service)
    js = login.nc.jetstream()
    for consumer in TOPOLOGY.consumers_of(service):
        # The producer of one of the subjects this durable filters on publishes it...
        event_type = next(t for t in CATALOG if any(f.startswith(t + ".") for f in consumer.filter_subjects))
        producer = await secured.login(CATALOG[event_type]["producer"])
        await producer.nc.jetstream().publish(example_subject(event_type), envelope(event_type), timeout=5)
        # ...and the service binds its durable, fetches, naks once (a retry), then acks.
        subscription = await js.pull_subscribe_bind(consumer.durable, consumer.stream)
        first = (await subscription.fetch(1, timeout=5))[0]
        await first.nak()
        again = (await subscription.fetch(1, timeout=5))[0]
        assert again.metadata.num_delivered == 2 and again.metadata.sequence.stream == first.metadata.sequence.stream
        await again.ack_sync(timeout=5)
        info = await js.consumer_info(consumer.stream, consumer.durable)
        assert info.num_ack_pending == 0 and info.ack_floor.stream_seq == again.metadata.sequence.stream
        await subscription.unsubscribe()
    own = [event_type for event_type, entry in CATALOG.items() if entry["producer"] == service]
    assert own
    for event_type in own:
        ack = await js.publish(example_subject(event_type), envelope(event_type), timeout=5)
        assert ack.stream == service.upper()
    assert login.violations() == []


async def test_the_platform_runtime_relays_and_consumes_with_its_login(
    secured: Secured, database_urls: dict[str, str], tmp_path: Path
) -> None:
    """The real outbox relay (PubAcks on the service's own inbox) and consumer runner (fetch, ack,
    readiness through consumer info) under the generated permissions, across a server restart."""
    producer = secured.probe("intake", database_urls["producer"], tmp_path)
    consumer = secured.probe("dispatch", database_urls["dispatch"], tmp_path)
    for probe in (producer, consumer):
        await probe.create_schema()
    await producer.runtime.start(consumers=False)
    await consumer.runtime.start(relay=False)
    try:
        await producer.emit_requests(5)

        async def handled() -> bool:
            return (await consumer.effect_counts()) == (5, 5)

        await eventually(handled, timeout=30)
        assert all((await consumer.runtime.readiness()).values())
        admin = (await secured.admin()).jetstream()

        async def acked() -> bool:
            info = await admin.consumer_info("INTAKE", "dispatch-from-intake")
            return info.num_ack_pending == 0 and info.ack_floor.stream_seq == 5

        await eventually(acked, timeout=10)

        # A restarted server: both clients log in again as themselves and carry on.
        secured.server.stop()
        secured.server.start()
        await producer.emit_requests(5)

        async def handled_after_restart() -> bool:
            return (await consumer.effect_counts()) == (10, 10)

        await eventually(handled_after_restart, timeout=60)
    finally:
        await producer.runtime.stop()
        await consumer.runtime.stop()


async def test_a_service_records_the_advisories_of_its_own_durables_only(
    secured: Secured, database_urls: dict[str, str], tmp_path: Path
) -> None:
    """The server's advisory about dispatch's durable reaches dispatch's dead letters through its own durable of
    ADVISORIES, under its login; billing can neither read that durable nor listen to advisories directly."""
    intake = await secured.login("intake")
    await intake.nc.jetstream().publish(
        example_subject("intake.request.created.v1"), envelope("intake.request.created.v1"), timeout=5
    )
    # Terminated by a client that records nothing (an older release, say) while the service is down: an advisory.
    older = await secured.login("dispatch")
    [message] = await (await older.nc.jetstream().pull_subscribe_bind("dispatch-from-intake", "INTAKE")).fetch(
        1, timeout=5
    )
    await message.term()
    await older.nc.close()
    admin = (await secured.admin()).jetstream()
    dispatch = secured.probe("dispatch", database_urls["dispatch"], tmp_path)
    await dispatch.create_schema()
    await dispatch.runtime.start(relay=False)
    try:

        async def recorded() -> bool:
            return len(await dispatch.rows(dispatch.tables.dead_letters)) == 1

        await eventually(recorded, timeout=30)
        [row] = await dispatch.rows(dispatch.tables.dead_letters)
        assert (row["kind"], row["consumer"], row["stream"], row["stream_sequence"]) == (
            "terminated",
            "dispatch-from-intake",
            "INTAKE",
            1,
        )
        info = await admin.consumer_info(ADVISORY_STREAM, advisory_durable("dispatch"))
        assert info.num_ack_pending == 0 and info.num_pending == 0
    finally:
        await dispatch.runtime.stop()

    billing = await secured.login("billing")
    stolen = await billing.nc.jetstream().pull_subscribe_bind(advisory_durable("dispatch"), ADVISORY_STREAM)
    with pytest.raises(nats.errors.TimeoutError):
        await stolen.fetch(1, timeout=REFUSED)
    assert any(
        f"$js.api.consumer.msg.next.advisories.{advisory_durable('dispatch')}" in v for v in billing.violations()
    )
    await billing.nc.subscribe("$JS.EVENT.ADVISORY.>")
    await billing.nc.flush()
    await eventually(lambda: _async(any("$js.event.advisory.>" in v for v in billing.violations())), timeout=5)


@pytest.mark.parametrize(
    ("service", "event_type"),
    [
        ("intake", "dispatch.workorder.created.v1"),
        ("dispatch", "intake.request.created.v1"),
        ("billing", "notification.message.sent.v1"),
        ("survey", "billing.charge.recorded.v1"),
        ("notification", "survey.followup.completed.v1"),
    ],
)
async def test_a_service_cannot_publish_another_services_events(
    secured: Secured, service: str, event_type: str
) -> None:
    login = await secured.login(service)
    stream = CATALOG[event_type]["producer"].upper()
    await refused_publish(login, example_subject(event_type))
    assert await secured.stored(stream) == 0


async def test_a_service_cannot_bind_or_ack_another_services_durable(secured: Secured) -> None:
    intake = await secured.login("intake")
    await intake.nc.jetstream().publish(
        example_subject("intake.request.created.v1"), envelope("intake.request.created.v1"), timeout=5
    )
    billing = await secured.login("billing")
    stolen = await billing.nc.jetstream().pull_subscribe_bind("dispatch-from-intake", "INTAKE")
    with pytest.raises(nats.errors.TimeoutError):
        await stolen.fetch(1, timeout=REFUSED)
    with pytest.raises(nats.errors.TimeoutError):
        await billing.nc.jetstream().consumer_info("INTAKE", "dispatch-from-intake", timeout=REFUSED)
    assert any("$js.api.consumer.msg.next.intake.dispatch-from-intake" in v for v in billing.violations())

    # dispatch fetched the message; billing cannot ack it (nor nak or term it) on dispatch's behalf.
    dispatch = await secured.login("dispatch")
    message = (
        await (await dispatch.nc.jetstream().pull_subscribe_bind("dispatch-from-intake", "INTAKE")).fetch(1, timeout=5)
    )[0]
    assert message.reply
    await billing.nc.publish(message.reply, b"+ACK")
    await billing.nc.flush()
    await eventually(lambda: _async(any(message.reply.lower() in v for v in billing.violations())), timeout=5)
    info = await (await secured.admin()).jetstream().consumer_info("INTAKE", "dispatch-from-intake")
    assert info.num_ack_pending == 1


async def test_a_service_cannot_read_a_stream_directly(secured: Secured) -> None:
    intake = await secured.login("intake")
    await intake.nc.jetstream().publish(
        example_subject("intake.request.created.v1"), envelope("intake.request.created.v1"), timeout=5
    )
    billing = await secured.login("billing")
    js = billing.nc.jetstream(timeout=REFUSED)
    with pytest.raises(nats.errors.TimeoutError):
        await js.get_msg("INTAKE", seq=1)  # $JS.API.STREAM.MSG.GET
    with pytest.raises(nats.errors.TimeoutError):
        await js.get_msg("INTAKE", seq=1, direct=True)  # $JS.API.DIRECT.GET
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer("INTAKE", ConsumerConfig(name="peek", filter_subject="intake.>"), timeout=REFUSED)
    with pytest.raises(nats.errors.TimeoutError):
        await js.stream_info("INTAKE")
    # Nor a core subscription to the events, nor to another user's reply inbox.
    live = await billing.nc.subscribe("intake.>")
    inbox = await billing.nc.subscribe(natsauth.inbox_prefix("dispatch") + ".>")
    await billing.nc.flush()
    await intake.nc.jetstream().publish(
        example_subject("intake.request.created.v1"), envelope("intake.request.created.v1"), timeout=5
    )
    await eventually(lambda: _async(sum("subscription" in v for v in billing.violations()) >= 2), timeout=5)
    assert live.pending_msgs == 0 and inbox.pending_msgs == 0
    assert any("intake.>" in v for v in billing.violations())
    assert any("_inbox_dispatch.>" in v for v in billing.violations())


async def test_only_the_provisioner_changes_streams_and_consumers(secured: Secured) -> None:
    intake = await secured.login("intake")
    js = intake.nc.jetstream(timeout=REFUSED)
    with pytest.raises(nats.errors.TimeoutError):
        await js.delete_consumer("INTAKE", "dispatch-from-intake")
    with pytest.raises(nats.errors.TimeoutError):
        await js.purge_stream("DISPATCH")
    admin = (await secured.admin()).jetstream()
    assert (await admin.consumer_info("INTAKE", "dispatch-from-intake")).name == "dispatch-from-intake"


# --- departments ------------------------------------------------------------------------------------


async def publish_workorders(secured: Secured, places: list[tuple[str, str]]) -> None:
    dispatch = (await secured.login("dispatch")).nc.jetstream()
    for site, department in places:
        event_type = "dispatch.workorder.created.v1"
        await dispatch.publish(
            example_subject(event_type, site, department),
            envelope(event_type, site=site, department=department),
            timeout=5,
        )


async def received(subscription: Any, count: int) -> list[tuple[str, str]]:
    seen = []
    for _ in range(count):
        message = await subscription.next_msg(timeout=5)
        data = json.loads(message.data)["data"]
        seen.append((data["site"], data["department"]))
    with pytest.raises(nats.errors.TimeoutError):
        await subscription.next_msg(timeout=0.5)
    return seen


ALL_PLACES = [("harbour", "engineering"), ("harbour", "cleaning"), ("riverside", "engineering"), ("riverside", "lift")]


async def test_a_department_watches_its_own_work_orders_only(secured: Secured) -> None:
    await publish_workorders(secured, ALL_PLACES)
    watcher = await secured.login("dept-harbour-engineering")
    history = await bus.watch_workorders(watcher.nc, "harbour", "engineering", history=True)
    assert await received(history, 1) == [("harbour", "engineering")]
    live = await bus.watch_workorders(watcher.nc, "harbour", "engineering")
    await publish_workorders(secured, ALL_PLACES)
    assert await received(live, 1) == [("harbour", "engineering")]
    assert watcher.violations() == []


async def test_head_office_watches_one_department_on_every_site(secured: Secured) -> None:
    await publish_workorders(secured, ALL_PLACES)
    watcher = await secured.login(natsauth.department_user("*", "engineering"))
    history = await bus.watch_workorders(watcher.nc, "*", "engineering", history=True)
    assert sorted(await received(history, 2)) == [("harbour", "engineering"), ("riverside", "engineering")]
    with pytest.raises(nats.errors.TimeoutError):
        await bus.watch_workorders(watcher.nc, "*", "cleaning", history=True, timeout=REFUSED)


@pytest.mark.parametrize(
    ("site", "department"),
    [
        ("riverside", "engineering"),  # another site
        ("harbour", "cleaning"),  # another department
        ("*", "engineering"),  # every site
        ("harbour", "*"),  # every department
    ],
)
async def test_a_department_cannot_watch_other_work_orders(secured: Secured, site: str, department: str) -> None:
    watcher = await secured.login("dept-harbour-engineering")
    with pytest.raises(nats.errors.TimeoutError):
        await bus.watch_workorders(watcher.nc, site, department, history=True, timeout=REFUSED)
    assert any(
        "$js.api.consumer.create.dispatch.watch-" in v and natsauth.workorder_filter(site, department).lower() in v
        for v in watcher.violations()
    )
    info = await (await secured.admin()).jetstream().stream_info("DISPATCH")
    assert info.state.consumer_count == len([c for c in TOPOLOGY.consumers if c.stream == "DISPATCH"])


async def test_a_department_cannot_widen_its_filter_in_the_request_body(secured: Secured) -> None:
    """The permission checks the filter in the API subject; the server holds the body to it."""
    await publish_workorders(secured, ALL_PLACES)
    watcher = await secured.login("dept-harbour-engineering")
    allowed = f"$JS.API.CONSUMER.CREATE.DISPATCH.sneaky.{natsauth.workorder_filter('harbour', 'engineering')}"
    for config in (
        {"filter_subject": "dispatch.>"},
        {"filter_subjects": [natsauth.workorder_filter("harbour", "engineering"), "dispatch.>"]},
    ):
        body = {
            "stream_name": "DISPATCH",
            "config": {
                "name": "sneaky",
                "deliver_subject": watcher.nc.new_inbox(),
                "ack_policy": "none",
                "deliver_policy": "all",
                **config,
            },
        }
        reply = json.loads((await watcher.nc.request(allowed, json.dumps(body).encode(), timeout=5)).data)
        assert "error" in reply, reply
    info = await (await secured.admin()).jetstream().stream_info("DISPATCH")
    assert info.state.consumer_count == len([c for c in TOPOLOGY.consumers if c.stream == "DISPATCH"])


async def test_a_department_user_is_read_only(secured: Secured) -> None:
    watcher = await secured.login("dept-harbour-engineering")
    await refused_publish(watcher, example_subject("dispatch.workorder.created.v1"))
    assert await secured.stored("DISPATCH") == 0
    await publish_workorders(secured, [("harbour", "engineering")])
    js = watcher.nc.jetstream(timeout=REFUSED)
    # No durable (not even one filtered on its own orders), no direct read, no core subscription.
    stolen = await js.pull_subscribe_bind("intake-from-dispatch", "DISPATCH")
    with pytest.raises(nats.errors.TimeoutError):
        await stolen.fetch(1, timeout=REFUSED)
    with pytest.raises(nats.errors.TimeoutError):
        await js.get_msg("DISPATCH", seq=1)
    with pytest.raises(nats.errors.TimeoutError):
        await js.delete_consumer("DISPATCH", "intake-from-dispatch")
    await watcher.nc.subscribe(natsauth.workorder_filter("harbour", "engineering"))
    await watcher.nc.flush()
    await eventually(lambda: _async(any("subscription" in v for v in watcher.violations())), timeout=5)
    info = await (await secured.admin()).jetstream().consumer_info("DISPATCH", "intake-from-dispatch")
    assert info.delivered.stream_seq == 0


async def test_a_watch_consumer_cannot_push_events_into_another_stream(secured: Secured) -> None:
    """The deliver subject is in the request body, out of reach of permissions: a department user can
    point its consumer at another stream's subject, but the server delivers only where a client
    listens, and no client may listen on event subjects."""
    await publish_workorders(secured, [("harbour", "engineering")])
    watcher = await secured.login("dept-harbour-engineering")
    config = ConsumerConfig(
        name="redirect",
        filter_subject=natsauth.workorder_filter("harbour", "engineering"),
        deliver_subject=example_subject("intake.request.created.v1"),
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
    )
    await watcher.nc.jetstream().add_consumer("DISPATCH", config, timeout=5)
    admin = (await secured.admin()).jetstream()
    # The server pushes only to a deliver subject with interest; it has none, so nothing moves.
    info = await admin.consumer_info("DISPATCH", "redirect")
    assert info.num_pending == 1 and not info.push_bound
    assert await secured.stored("INTAKE") == 0


# --- the console ------------------------------------------------------------------------------------


def live_consumer(inbox: str, subject: str) -> ConsumerConfig:
    """What console.live creates: a throwaway push consumer of new events, delivered to the console's inbox."""
    return ConsumerConfig(
        name="live-test",
        filter_subject=subject,
        deliver_subject=inbox,
        deliver_policy=DeliverPolicy.NEW,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0,
        mem_storage=True,
    )


async def test_the_console_reads_events_through_its_own_filtered_consumers(secured: Secured) -> None:
    console = await secured.login(natsauth.CONSOLE)
    inbox = console.nc.new_inbox()
    received = await console.nc.subscribe(inbox)
    filter_subject = example_subject("intake.request.created.v1", "harbour")
    await console.nc.jetstream().add_consumer("INTAKE", live_consumer(inbox, filter_subject), timeout=5)
    intake = (await secured.login("intake")).nc.jetstream()
    for site in ("riverside", "harbour"):
        subject = example_subject("intake.request.created.v1", site)
        await intake.publish(subject, envelope("intake.request.created.v1", site=site), timeout=5)
    message = await received.next_msg(timeout=5)
    assert json.loads(message.data)["data"]["site"] == "harbour"
    with pytest.raises(nats.errors.TimeoutError):
        await received.next_msg(timeout=0.5)
    assert console.violations() == []


async def test_the_console_publishes_no_event_and_reads_nothing_else(secured: Secured) -> None:
    console = await secured.login(natsauth.CONSOLE)
    await refused_publish(console, example_subject("intake.request.created.v1"))
    assert await secured.stored("INTAKE") == 0
    js = console.nc.jetstream(timeout=REFUSED)
    # No consumer wider than an event subject, no durable, no direct read.
    with pytest.raises(nats.errors.TimeoutError):
        await js.add_consumer("INTAKE", live_consumer(console.nc.new_inbox(), "intake.>"), timeout=REFUSED)
    stolen = await js.pull_subscribe_bind("dispatch-from-intake", "INTAKE")
    with pytest.raises(nats.errors.TimeoutError):
        await stolen.fetch(1, timeout=REFUSED)
    with pytest.raises(nats.errors.TimeoutError):
        await js.get_msg("INTAKE", seq=1)
    # Nor a core subscription to an event subject: a listener there would let a department user's consumer
    # push work orders into another stream (test_a_watch_consumer_cannot_push_events_into_another_stream).
    await console.nc.subscribe(example_subject("intake.request.created.v1"))
    await console.nc.flush()
    await eventually(lambda: _async(any("subscription" in v for v in console.violations())), timeout=5)
    info = await (await secured.admin()).jetstream().stream_info("INTAKE")
    assert info.state.consumer_count == len([c for c in TOPOLOGY.consumers if c.stream == "INTAKE"])


# --- the generated files ----------------------------------------------------------------------------


def test_the_committed_server_config_is_generated_from_the_catalog_and_topology() -> None:
    users = natsauth.build_users(DEPLOY, CONTRACTS)
    assert (DEPLOY / "nats" / "nats-server.conf").read_text() == natsauth.render_config(users)


def test_passwords_are_kept_across_runs_and_private(tmp_path: Path) -> None:
    users = natsauth.build_users(DEPLOY, CONTRACTS)
    path = natsauth.credentials_file(tmp_path)
    first = natsauth.generate_passwords(users, path)
    assert natsauth.generate_passwords(users, path) == first
    assert len(set(first.values())) == len(users)
    assert path.stat().st_mode & 0o077 == 0


def test_compose_runs_nats_with_the_generated_users_and_logs_each_service_in() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    nats_service = compose["nats"]
    command = nats_service["command"]
    assert command[command.index("-c") + 1] == "/etc/nats/nats-server.conf"
    assert "./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro" in nats_service["volumes"]
    assert nats_service["env_file"] == "var/nats/credentials.env"
    for user in [*SERVICES, natsauth.PROVISIONER]:
        environment = compose["nats-provision" if user == natsauth.PROVISIONER else user]["environment"]
        assert environment["PM_NATS_USER"] == user
        assert environment["PM_NATS_PASSWORD"] == "${" + natsauth.password_variable(user) + "}"


CONTACT_FIELDS = {"name", "phone", "mobile", "email", "contact", "reporter", "owner", "party", "parties"}


def test_events_a_department_may_read_carry_no_contact_fields() -> None:
    """Every event type on a subject a department user can read: no owner's name, phone or email."""
    readable = [
        t
        for t, entry in CATALOG.items()
        if entry["subject"] == f"{t}.{{site}}.{{department}}" and t.startswith("dispatch.workorder.")
    ]
    assert len(readable) == 4
    for event_type in readable:
        schema = json.loads((CONTRACTS / CATALOG[event_type]["schema"]).read_text())
        fields = set(schema["properties"])
        assert not {f for f in fields if f in CONTACT_FIELDS or "phone" in f or "name" in f or "email" in f}, (
            event_type,
            fields,
        )
        for example in CATALOG[event_type]["examples"]:
            data = json.loads((CONTRACTS / example).read_text())
            assert not {f for f in data if "phone" in f or "name" in f or "email" in f}
