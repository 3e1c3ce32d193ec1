"""Notification: contacts from intake's events, messages queued in the event's transaction and sent by the
sender job through the file sink (idempotent per message id), reads scoped by site (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from notification.contact.models import Contact
from notification.database import Base, platform_tables
from notification.main import create
from notification.message import sender as sender_module
from notification.message.handlers import ContactNotYetKnown, subscriptions
from notification.message.models import Message, message_id
from notification.message.sender import FileSink, send_pending
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

EXAMPLES = REPO_ROOT / "contracts" / "examples"
REQUEST_ID = "3f6c1a9e-0b7d-4c51-9e2a-5d8f7b6a4c31"
DURABLES = {"intake": "notification-from-intake", "dispatch": "notification-from-dispatch",
            "billing": "notification-from-billing"}


@pytest.fixture
async def notification(database_urls: dict[str, str], tmp_path: Path):
    settings = Settings(service="notification", var_dir=tmp_path, database_url=database_urls["notification"])
    await asyncio.to_thread(migrations.upgrade, "notification", settings)
    runtime = Runtime(settings, Base.metadata, platform_tables, subscriptions)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def envelope(runtime: Runtime, event_type: str, event_id: str, data: dict[str, Any] | None = None,
             **changes: Any) -> Envelope:
    data = {**(data or json.loads((EXAMPLES / f"{event_type}.json").read_text())), **changes}
    producer = event_type.split(".", 1)[0]
    document = {
        "specversion": "1.0", "id": event_id, "source": f"pm/{producer}", "type": event_type,
        "subject": data.get("work_order_id") or data.get("charge_id") or data["request_id"],
        "time": "2026-11-23T08:30:01+00:00", "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{event_type}", "site": data["site"],
        "correlationid": data.get("request_id") or "chain-1", "data": data,
    }
    if "department" in data:
        document["department"] = data["department"]
    return runtime.catalog.parse(document)


def request_created(runtime: Runtime, event_id: str = "evt-request", **reporter: Any) -> Envelope:
    data = json.loads((EXAMPLES / "intake.request.created.v1.json").read_text())
    data["request_id"] = REQUEST_ID
    data["reporter"] = {**data["reporter"], **reporter}
    return envelope(runtime, "intake.request.created.v1", event_id, data)


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, DURABLES[event.source.removeprefix("pm/")], subscriptions.handlers, event)


async def messages(runtime: Runtime) -> list[Message]:
    async with runtime.sessionmaker() as session:
        return list((await session.scalars(select(Message).order_by(Message.created_at, Message.id))).all())


async def outbox_events(runtime: Runtime) -> list[Envelope]:
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(runtime.tables.outbox).order_by(runtime.tables.outbox.c.id))).mappings()
        return [runtime.catalog.parse(json.loads(row["payload"])) for row in rows]


def sink_lines(runtime: Runtime) -> list[dict[str, Any]]:
    path = runtime.settings.var_dir / "notifications" / "sink.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def sink(runtime: Runtime) -> FileSink:
    return FileSink.for_var_dir(runtime.settings.var_dir)


def auth(runtime: Runtime, roles=("agent",), sites=("harbour",)) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(runtime.settings, "agent.1", list(roles), list(sites))}


async def test_a_new_request_stores_the_contact_and_queues_an_acknowledgement_sent_after_commit(notification) -> None:
    runtime, _ = notification
    event = request_created(runtime)
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"

    async with runtime.sessionmaker() as session:
        contact = await session.get(Contact, REQUEST_ID)
    assert contact is not None
    assert (contact.site, contact.unit_id, contact.name, contact.phone, contact.language) == \
        ("harbour", "harbour-A-0101", "Li Wei", "13800000001", "zh-CN")

    [queued] = await messages(runtime)
    assert queued.id == message_id(event.id, "request.acknowledged")
    assert (queued.status, queued.template, queued.recipient, queued.request_id) == \
        ("queued", "request.acknowledged", "13800000001", REQUEST_ID)
    assert queued.body == "您的报修已受理，单号 3f6c1a9e"  # noqa: RUF001
    assert await outbox_events(runtime) == []  # nothing is announced before it is sent
    assert sink_lines(runtime) == []

    assert await send_pending(runtime, sink(runtime)) == 1
    assert await send_pending(runtime, sink(runtime)) == 0
    [sent] = await messages(runtime)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    [line] = sink_lines(runtime)
    assert (line["message_id"], line["request_id"], line["body"]) == (sent.id, REQUEST_ID, sent.body)
    [announced] = await outbox_events(runtime)
    assert announced.type == "notification.message.sent.v1"
    assert announced.nats_subject == "notification.message.sent.v1.harbour"
    assert (announced.correlationid, announced.causationid) == (REQUEST_ID, event.id)
    assert announced.data["message_id"] == sent.id
    assert (announced.data["status"], announced.data["channel"], announced.data["request_id"]) == \
        ("sent", "file", REQUEST_ID)


async def test_work_order_and_charge_events_message_the_reporter(notification) -> None:
    runtime, _ = notification
    await apply(runtime, request_created(runtime))
    for event_type in ("dispatch.workorder.created.v1", "dispatch.workorder.completed.v1",
                       "billing.charge.recorded.v1"):
        assert await apply(runtime, envelope(runtime, event_type, f"evt-{event_type}", request_id=REQUEST_ID)) \
            == "handled"
    assert await send_pending(runtime, sink(runtime)) == 4
    bodies = {m.template: m.body for m in await messages(runtime)}
    assert bodies == {
        "request.acknowledged": "您的报修已受理，单号 3f6c1a9e",  # noqa: RUF001
        "workorder.assigned": "您的报修 3f6c1a9e 已派给工程部，工作人员将尽快上门",  # noqa: RUF001
        "workorder.completed": "您的报修 3f6c1a9e 已处理完成：Replaced the tap cartridge",  # noqa: RUF001
        "charge.recorded": "您的账户已记入费用：Tap cartridge replacement，金额 80.00 元（单号 3f6c1a9e）",  # noqa: RUF001
    }
    assert len(sink_lines(runtime)) == 4
    events = await outbox_events(runtime)
    assert sorted(e.data["template"] for e in events) == sorted(bodies)
    assert {e.correlationid for e in events} == {REQUEST_ID}


async def test_an_english_speaking_reporter_gets_english_messages(notification) -> None:
    runtime, _ = notification
    await apply(runtime, request_created(runtime, language="en", phone=None, name="Ann Lee"))
    await apply(runtime, envelope(runtime, "dispatch.workorder.created.v1", "evt-wo", request_id=REQUEST_ID))
    await send_pending(runtime, sink(runtime))
    by_template = {m.template: m for m in await messages(runtime)}
    acknowledged = by_template["request.acknowledged"]
    assert (acknowledged.language, acknowledged.recipient) == ("en", "Ann Lee")  # no phone: the name
    assert acknowledged.body == "We have received your request 3f6c1a9e"
    assert by_template["workorder.assigned"].body == \
        "Your request 3f6c1a9e has been assigned to the engineering team; they are on the way"


async def test_a_charge_without_a_known_reporter_sends_nothing(notification) -> None:
    runtime, _ = notification
    unknown = envelope(runtime, "billing.charge.recorded.v1", "evt-charge-unknown", request_id="req-unknown")
    assert await apply(runtime, unknown) == "handled"
    monthly = envelope(runtime, "billing.charge.recorded.v1", "evt-charge-fee", request_id=None, work_order_id=None)
    assert await apply(runtime, monthly) == "handled"
    assert await messages(runtime) == []
    assert await send_pending(runtime, sink(runtime)) == 0
    assert await outbox_events(runtime) == []


async def test_a_work_order_event_that_overtakes_its_request_is_retried_until_the_contact_arrives(
        notification) -> None:
    runtime, _ = notification
    early = envelope(runtime, "dispatch.workorder.created.v1", "evt-wo-early", request_id=REQUEST_ID)
    with pytest.raises(ContactNotYetKnown):
        await apply(runtime, early)  # transient: not recorded in the inbox, the consumer redelivers it
    assert await messages(runtime) == []
    await apply(runtime, request_created(runtime))
    assert await apply(runtime, early) == "handled"
    assert sorted(m.template for m in await messages(runtime)) == ["request.acknowledged", "workorder.assigned"]


async def test_the_sink_writes_a_message_id_once_across_restarts_and_crashes(notification) -> None:
    runtime, _ = notification
    await apply(runtime, request_created(runtime))
    [queued] = await messages(runtime)
    first = sink(runtime)
    await first.send(queued)
    await first.send(queued)
    assert len(sink_lines(runtime)) == 1
    # A crash after the write and before the "sent" commit: the message is still queued and a new process
    # (a new sink reading the file) sends it again; the sink skips it and the message is marked sent.
    assert await send_pending(runtime, sink(runtime)) == 1
    [line] = sink_lines(runtime)
    assert line["message_id"] == queued.id
    assert [m.status for m in await messages(runtime)] == ["sent"]
    assert len(await outbox_events(runtime)) == 1


async def test_a_torn_last_line_does_not_swallow_the_next_message(notification) -> None:
    runtime, _ = notification
    path = runtime.settings.var_dir / "notifications" / "sink.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"message_id":"torn","bo', encoding="utf-8")
    await apply(runtime, request_created(runtime))
    assert await send_pending(runtime, sink(runtime)) == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"message_id":"torn","bo'
    assert json.loads(lines[1])["template"] == "request.acknowledged"


class BrokenSender:
    channel = "sms"

    async def send(self, message: Message) -> None:
        raise ConnectionError("gateway down")


async def test_a_failing_sender_retries_later_then_records_the_failure(notification, monkeypatch) -> None:
    runtime, _ = notification
    await apply(runtime, request_created(runtime))
    assert await send_pending(runtime, BrokenSender()) == 0
    [message] = await messages(runtime)
    assert (message.status, message.attempts, message.last_error) == ("queued", 1, "ConnectionError: gateway down")
    assert message.next_attempt_at > message.created_at
    assert await send_pending(runtime, BrokenSender()) == 0  # not due yet
    assert (await messages(runtime))[0].attempts == 1
    assert await outbox_events(runtime) == []

    monkeypatch.setattr(sender_module, "SEND_MAX_ATTEMPTS", 2)
    async with runtime.sessionmaker() as session:
        row = await session.get(Message, message.id)
        assert row is not None
        row.next_attempt_at = row.created_at
        await session.commit()
    assert await send_pending(runtime, BrokenSender()) == 1
    [failed] = await messages(runtime)
    assert (failed.status, failed.attempts, failed.channel) == ("failed", 2, "sms")
    [announced] = await outbox_events(runtime)
    assert (announced.data["status"], announced.data["channel"]) == ("failed", "sms")
    assert sink_lines(runtime) == []


async def test_messages_are_read_within_the_callers_sites(notification) -> None:
    runtime, client = notification
    await apply(runtime, request_created(runtime))
    other = json.loads((EXAMPLES / "intake.request.created.v1.json").read_text())
    other.update(request_id="req-riverside", site="riverside", unit_id="riverside-T1-1501")
    await apply(runtime, envelope(runtime, "intake.request.created.v1", "evt-riverside", other))
    await send_pending(runtime, sink(runtime))

    listing = await client.get("/messages", params={"site": "harbour", "request_id": REQUEST_ID},
                               headers=auth(runtime))
    assert listing.status_code == 200
    [item] = listing.json()["items"]
    assert (item["request_id"], item["status"], item["template"]) == (REQUEST_ID, "sent", "request.acknowledged")
    assert (await client.get("/messages", headers=auth(runtime))).json()["total"] == 1
    everyone = auth(runtime, roles=("operator",), sites=("*",))
    assert (await client.get("/messages", headers=everyone)).json()["total"] == 2
    none = await client.get("/messages", params={"request_id": "req-unknown"}, headers=auth(runtime))
    assert none.json()["total"] == 0

    detail = await client.get(f"/messages/{item['id']}", headers=auth(runtime))
    assert detail.status_code == 200 and detail.json() == item
    riverside_id = message_id("evt-riverside", "request.acknowledged")
    assert (await client.get(f"/messages/{riverside_id}", headers=auth(runtime))).status_code == 403
    assert (await client.get(f"/messages/{riverside_id}", headers=everyone)).status_code == 200
    assert (await client.get("/messages/nope", headers=auth(runtime))).status_code == 404

    forbidden = await client.get("/messages", params={"site": "riverside"}, headers=auth(runtime))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == PROBLEM_JSON
    assert (await client.get("/messages", headers=auth(runtime, roles=("owner",)))).status_code == 403
    anonymous = await client.get("/messages", params={"site": "harbour"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM_JSON
