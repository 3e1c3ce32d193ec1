"""examples/department_subscriber against a real nats-server with the generated users and permissions:
the department's own work order arrives as a typed model; another department's does not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from examples.department_subscriber.app import Department, WorkOrderEvent, create_app
from pm_events.dispatch import WorkOrderCreated
from pm_platform import bus, natsauth
from pm_platform.envelope import Envelope, new_id
from pm_platform.natsserver import NatsServer
from pm_platform.settings import REPO_ROOT
from tests.platform.harness import eventually

pytestmark = pytest.mark.timeout(60)

DEPLOY = REPO_ROOT / "deploy"
CONTRACTS = REPO_ROOT / "contracts"
EXAMPLE = json.loads((CONTRACTS / "examples" / "dispatch.workorder.created.v1.json").read_text(encoding="utf-8"))
CREATED = "dispatch.workorder.created.v1"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    users = natsauth.build_users(DEPLOY, CONTRACTS)
    passwords = natsauth.generate_passwords(users, natsauth.credentials_file(tmp_path))
    config = tmp_path / "nats-server.conf"
    config.write_text(natsauth.render_config(users))
    server = NatsServer(tmp_path / "nats", config_file=config, env=passwords).start()
    try:
        yield server, passwords
    finally:
        server.stop()


def work_order(department: str) -> Envelope:
    order_id = new_id()
    return Envelope(
        source="pm/dispatch",
        type=CREATED,
        subject=order_id,
        dataschema=f"urn:pm:contracts:{CREATED}",
        site="harbour",
        department=department,
        correlationid=EXAMPLE["request_id"],
        data={**EXAMPLE, "work_order_id": order_id, "department": department},
    )


async def login(server: NatsServer, passwords: dict[str, str], user: str) -> Client:
    return await bus.connect(server.url, user, user=user, password=passwords[natsauth.password_variable(user)])


async def test_a_work_order_of_the_department_arrives_as_a_typed_model(
    secured: tuple[NatsServer, dict[str, str]],
) -> None:
    server, passwords = secured
    provisioner = await login(server, passwords, natsauth.PROVISIONER)
    await bus.provision(provisioner, bus.load_topology(DEPLOY))
    await provisioner.close()

    received: list[tuple[Envelope, WorkOrderEvent]] = []

    async def on_work_order(envelope: Envelope, event: WorkOrderEvent) -> None:
        received.append((envelope, event))

    user = natsauth.department_user("harbour", "engineering")
    department = Department(
        "harbour", "engineering", nats_url=server.url, password=passwords[natsauth.password_variable(user)]
    )
    app = create_app(department, on_work_order)
    broker = app.broker
    assert broker is not None
    await broker.start()
    dispatch = await login(server, passwords, "dispatch")
    try:
        js = dispatch.jetstream()
        theirs, ours = work_order("cleaning"), work_order("engineering")
        for envelope in (theirs, ours):
            await js.publish(envelope.nats_subject, envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})

        async def arrived() -> bool:
            return bool(received)

        await eventually(arrived, timeout=20)
        await asyncio.sleep(0.5)  # time for the other department's order, were it let through
    finally:
        await dispatch.close()
        await broker.stop()

    [(envelope, event)] = received
    assert envelope.id == ours.id and envelope.department == "engineering"
    assert isinstance(event, WorkOrderCreated)
    assert event.work_order_id == ours.subject and event.department == "engineering"
    assert event.priority == EXAMPLE["priority"] and event.description == EXAMPLE["description"]
