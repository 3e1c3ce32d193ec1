"""Notification on real SQLite and PostgreSQL: contacts from intake's events, messages decided in the event's
transaction (opt-outs, dedupe, throttle, quiet hours with the emergency bypass) and sent by the sender job
through the file sink, a real SMTP server and a real HTTP gateway (retries with backoff), templates edited
by administrators, staff messages, and broadcasts fanned out through a real nats-server."""

# ruff: noqa: RUF001

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event as sa_event
from sqlalchemy import select

from notification.broadcast import service as broadcast_service
from notification.broadcast.models import Broadcast
from notification.config import NotificationSettings
from notification.contact.models import Party, RequestContact
from notification.main import build_runtime, create, subscriptions, timers
from notification.message import sender as sender_module
from notification.message import service as message_service
from notification.message.channels import Channels, FileSink, build_channels
from notification.message.handlers import ContactNotYetKnown
from notification.message.models import Message
from notification.message.sender import send_pending
from notification.seed import seed
from notification.times import as_utc
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.natsserver import NatsServer
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings
from pm_platform.timers import fire_due
from tests.platform.harness import eventually, provision

EXAMPLES = REPO_ROOT / "contracts" / "examples"
REQUEST_ID = "3f6c1a9e-0b7d-4c51-9e2a-5d8f7b6a4c31"
DURABLES = {
    "intake": "notification-from-intake",
    "dispatch": "notification-from-dispatch",
    "billing": "notification-from-billing",
    "survey": "notification-from-survey",
    "notification": "notification-broadcast",
}
# 11:00 in Shanghai: outside quiet hours. 23:00 in Shanghai is 15:00 UTC.
DAY = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai: quiet hours end


class Clock:
    def __init__(self) -> None:
        self.now = DAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (message_service, sender_module, broadcast_service):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


async def make_runtime(
    database_urls: dict[str, str], tmp_path: Path, nats_url: str = "nats://127.0.0.1:1", **config: Any
) -> Runtime:
    settings = Settings(
        service="notification",
        var_dir=tmp_path,
        database_url=database_urls["notification"],
        nats_url=nats_url,
        relay_idle_seconds=0.05,
        timer_poll_seconds=0.1,
        consumer_retry_base_seconds=0.1,
    )
    await asyncio.to_thread(migrations.upgrade, "notification", settings)
    values: dict[str, Any] = {"send_idle_seconds": 0.05, **config}
    return build_runtime(settings=settings, config=NotificationSettings(**values))


@pytest.fixture
async def notification(database_urls: dict[str, str], tmp_path: Path, clock: Clock):
    runtime = await make_runtime(database_urls, tmp_path)
    app = create(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield runtime, client
    await runtime.engine.dispose()


def envelope(
    runtime: Runtime,
    event_type: str,
    event_id: str,
    data: dict[str, Any] | None = None,
    example: str | None = None,
    **changes: Any,
) -> Envelope:
    source = data or json.loads((EXAMPLES / f"{example or event_type}.json").read_text())
    data = {**source, **changes}
    producer = event_type.split(".", 1)[0]
    document = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"pm/{producer}",
        "type": event_type,
        "subject": str(
            data.get("work_order_id")
            or data.get("charge_id")
            or data.get("request_id")
            or data.get("party_id")
            or "subject"
        ),
        "time": "2026-11-23T08:30:01+00:00",
        "datacontenttype": "application/json",
        "dataschema": f"urn:pm:contracts:{event_type}",
        "site": data["site"],
        "correlationid": data.get("request_id") or "chain-1",
        "data": data,
    }
    if "department" in data and event_type.startswith("dispatch.workorder"):
        document["department"] = data["department"]
    return runtime.catalog.parse(document)


def request_created(
    runtime: Runtime,
    event_id: str = "evt-request",
    created_at: datetime = DAY,
    request_id: str = REQUEST_ID,
    **reporter: Any,
) -> Envelope:
    data = json.loads((EXAMPLES / "intake.request.created.v1.json").read_text())
    data["request_id"] = request_id
    data["created_at"] = created_at.isoformat()
    data["reporter"] = {**data["reporter"], **reporter}
    return envelope(runtime, "intake.request.created.v1", event_id, data)


def party_upserted(
    runtime: Runtime, party_id: str = "harbour-A-0101-owner", event_id: str | None = None, **changes: Any
) -> Envelope:
    values = {"party_id": party_id, "unit_id": party_id.removesuffix("-owner"), "extra_care": [], **changes}
    return envelope(runtime, "intake.party.upserted.v1", event_id or f"evt-party-{party_id}-{len(changes)}", **values)


async def apply(runtime: Runtime, event: Envelope) -> str:
    return await apply_event(runtime, DURABLES[event.source.removeprefix("pm/")], subscriptions.handlers, event)


async def messages(runtime: Runtime, **where: Any) -> list[Message]:
    async with runtime.sessionmaker() as session:
        query = select(Message).order_by(Message.created_at, Message.id)
        for column, value in where.items():
            query = query.where(getattr(Message, column) == value)
        return list((await session.scalars(query)).all())


async def outbox_events(runtime: Runtime, event_type: str = "notification.message.sent.v1") -> list[Envelope]:
    async with runtime.sessionmaker() as session:
        outbox = runtime.tables.outbox
        rows = (
            await session.execute(select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.id))
        ).mappings()
        return [runtime.catalog.parse(json.loads(row["payload"])) for row in rows]


def sink_lines(runtime: Runtime) -> list[dict[str, Any]]:
    path = runtime.settings.var_dir / "notifications" / "sink.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def sink(runtime: Runtime) -> Channels:
    return Channels(FileSink.for_var_dir(runtime.settings.var_dir))


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def auth(
    runtime: Runtime, roles=("agent",), sites=("harbour",), party_id: str | None = None, sub: str = "agent.1"
) -> dict[str, str]:
    token = mint_token(runtime.settings, sub, list(roles), list(sites), party_id=party_id)
    return {"Authorization": "Bearer " + token}


# --- owner messages from events -------------------------------------------------------------------------


async def test_a_new_request_stores_the_contact_and_queues_an_acknowledgement_sent_after_commit(notification) -> None:
    runtime, _ = notification
    event = request_created(runtime)
    assert await apply(runtime, event) == "handled"
    assert await apply(runtime, event) == "duplicate"

    async with runtime.sessionmaker() as session:
        contact = await session.get(RequestContact, REQUEST_ID)
    assert contact is not None
    assert (contact.site, contact.unit_id, contact.name, contact.phone, contact.language, contact.party_id) == (
        "harbour",
        "harbour-A-0101",
        "Li Wei",
        "13800000001",
        "zh-CN",
        "p-1",
    )

    [queued] = await messages(runtime)
    assert (queued.status, queued.template, queued.recipient, queued.request_id, queued.channel, queued.category) == (
        "queued",
        "request.acknowledged",
        "13800000001",
        REQUEST_ID,
        "sms",
        "service",
    )
    assert queued.body == "您的报修已受理，单号 3f6c1a9e"
    assert await outbox_events(runtime) == []  # nothing is announced before it is sent
    assert sink_lines(runtime) == []

    assert await send_pending(runtime, sink(runtime)) == 1
    assert await send_pending(runtime, sink(runtime)) == 0
    [sent] = await messages(runtime)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    [line] = sink_lines(runtime)
    assert (line["message_id"], line["request_id"], line["body"], line["channel"]) == (
        sent.id,
        REQUEST_ID,
        sent.body,
        "sms",
    )
    [announced] = await outbox_events(runtime)
    assert announced.nats_subject == "notification.message.sent.v1.harbour"
    assert (announced.correlationid, announced.causationid) == (REQUEST_ID, event.id)
    assert (
        announced.data["message_id"],
        announced.data["status"],
        announced.data["channel"],
        announced.data["request_id"],
        announced.data["category"],
    ) == (sent.id, "sent", "sms", REQUEST_ID, "service")


async def test_work_order_and_charge_events_message_the_reporter_and_the_department_on_duty(notification) -> None:
    runtime, _ = notification
    await seed(runtime)
    await apply(runtime, request_created(runtime))
    for event_type in (
        "dispatch.workorder.created.v1",
        "dispatch.workorder.completed.v1",
        "billing.charge.recorded.v1",
    ):
        assert (
            await apply(runtime, envelope(runtime, event_type, f"evt-{event_type}", request_id=REQUEST_ID)) == "handled"
        )
    assert await send_pending(runtime, sink(runtime)) == 5
    owner = {m.template: m.body for m in await messages(runtime, audience="owner")}
    assert owner == {
        "request.acknowledged": "您的报修已受理，单号 3f6c1a9e",
        "workorder.assigned": "您的报修 3f6c1a9e 已派给工程部，工作人员将尽快上门",
        "workorder.completed": "您的报修 3f6c1a9e 已处理完成：Replaced the tap cartridge",
        "charge.recorded": "您的账户已记入费用：Tap cartridge replacement，金额 80.00 元（单号 3f6c1a9e）",
    }
    [duty] = await messages(runtime, audience="staff")
    assert (duty.party_id, duty.recipient, duty.template, duty.category) == (
        "duty.harbour.engineering",
        "13800009010",
        "staff.workorder.new",
        "staff",
    )
    assert duty.body == "新工单 wo-0001：water，harbour-A-0101，优先级 normal（报修 3f6c1a9e）"
    assert len(sink_lines(runtime)) == 5
    events = await outbox_events(runtime)
    assert sorted(e.data["template"] for e in events) == sorted([*owner, "staff.workorder.new"])


async def test_status_changes_reopening_and_surveys_reach_the_owner(notification) -> None:
    runtime, _ = notification
    await apply(runtime, party_upserted(runtime, language="en", email=None))
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner"))
    moved = envelope(
        runtime,
        "dispatch.workorder.status_changed.v1",
        "evt-otw",
        request_id=REQUEST_ID,
        from_status="accepted",
        to_status="on_the_way",
        changed_at=DAY.isoformat(),
    )
    internal = envelope(
        runtime,
        "dispatch.workorder.status_changed.v1",
        "evt-assigned",
        request_id=REQUEST_ID,
        from_status="created",
        to_status="assigned",
    )
    cancelled = envelope(
        runtime,
        "intake.request.status_changed.v1",
        "evt-cancel",
        request_id=REQUEST_ID,
        from_status="acknowledged",
        to_status="cancelled",
        reason="The owner fixed it",
    )
    reopened = envelope(runtime, "intake.request.reopened.v1", "evt-reopen", request_id=REQUEST_ID)
    survey = envelope(runtime, "survey.invitation.requested.v1", "evt-survey")
    for event in (moved, internal, cancelled, reopened, survey):
        assert await apply(runtime, event) == "handled"
    bodies = {m.template: m.body for m in await messages(runtime)}
    assert bodies == {
        "request.acknowledged": "We have received your request 3f6c1a9e",
        "workorder.status_changed": "Your request 3f6c1a9e: the engineering team is on the way",
        "request.status_changed": "Your request 3f6c1a9e has been cancelled: The owner fixed it",
        "request.reopened": "Your request 3f6c1a9e has been reopened and will be handled again: "
        "Follow-up: tap still leaking",
        "survey.invitation": "You are invited to the Harbour View Gardens satisfaction survey 2026: 6 questions: "
        "cleaning, security, repairs, greening, staff, comments Please answer by 12-15 08:00: "
        "/invitations/inv-0001",
    }
    [invitation] = await messages(runtime, template="survey.invitation")
    assert (invitation.category, invitation.party_id, invitation.language) == ("surveys", "harbour-A-0101-owner", "en")


async def test_an_agents_reply_reaches_the_owner_and_waits_out_quiet_hours(notification, clock) -> None:
    runtime, _ = notification
    await seed(runtime)
    await apply(runtime, party_upserted(runtime, language="en", email=None))
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner", created_at=DAY))
    reply = envelope(
        runtime,
        "intake.request.replied.v1",
        "evt-reply",
        request_id=REQUEST_ID,
        message="The engineer is booked for 10:00 tomorrow",
    )
    assert await apply(runtime, reply) == "handled"
    assert await apply(runtime, reply) == "duplicate"
    [sent] = await messages(runtime, template="request.replied")
    assert (sent.audience, sent.party_id, sent.recipient, sent.category, sent.status, sent.request_id) == (
        "owner",
        "harbour-A-0101-owner",
        "13800000001",
        "service",
        "queued",
        REQUEST_ID,
    )
    assert sent.body == "About your request 3f6c1a9e: The engineer is booked for 10:00 tomorrow"
    assert sent.deferred_until is None

    # A Chinese-speaking owner gets the Chinese text; a reply recorded at 23:00 waits for the morning.
    await apply(runtime, request_created(runtime, "evt-request-2", DAY, "req-2", party_id="harbour-A-0102-owner"))
    clock.now = NIGHT
    await apply(
        runtime,
        envelope(
            runtime,
            "intake.request.replied.v1",
            "evt-reply-2",
            request_id="req-2",
            party_id="harbour-A-0102-owner",
            message="师傅明早十点上门",
        ),
    )
    [held] = await messages(runtime, template="request.replied", request_id="req-2")
    assert held.body == "关于您的报修 req-2：师傅明早十点上门"
    assert (held.status, held.category, utc(held.deferred_until)) == ("queued", "service", MORNING)
    # A reply about a request notification has not heard of yet is retried until the contact arrives.
    with pytest.raises(ContactNotYetKnown):
        await apply(runtime, envelope(runtime, "intake.request.replied.v1", "evt-reply-3", request_id="req-3"))


async def test_a_valid_complaint_reaches_the_department_supervisor_and_a_venting_one_sends_nothing(
    notification,
) -> None:
    runtime, client = notification
    await seed(runtime)
    added = await client.put(
        "/staff/sup.harbour.cleaning",
        headers=auth(runtime, roles=("manager",)),
        json={
            "site": "harbour",
            "role": "supervisor",
            "department": "cleaning",
            "name": "Gao Min",
            "phone": "13800009020",
            "language": "en",
        },
    )
    assert added.status_code == 200, added.text
    valid = envelope(runtime, "intake.request.classified.v1", "evt-valid")
    assert await apply(runtime, valid) == "handled"
    [message] = await messages(runtime)
    assert (
        message.audience,
        message.party_id,
        message.recipient,
        message.category,
        message.template,
        message.status,
        message.request_id,
    ) == ("staff", "sup.harbour.cleaning", "13800009020", "staff", "staff.complaint.valid", "queued", "req-0002")
    assert message.body == (
        "[VALID COMPLAINT] the cleaning team: complaint req-0002 (cleaning, harbour-A-0101) "
        "Stairwell of building A not cleaned for a week"
    )

    # Communicative complaints stay at the front desk.
    for event_id, complaint_class in (
        ("evt-venting", "venting"),
        ("evt-help", "help_seeking"),
        ("evt-inquiry", "inquiry"),
    ):
        assert (
            await apply(
                runtime,
                envelope(
                    runtime,
                    "intake.request.classified.v1",
                    event_id,
                    request_id=f"req-{complaint_class}",
                    complaint_class=complaint_class,
                ),
            )
            == "handled"
        )
    assert len(await messages(runtime)) == 1

    # A department without its own supervisor on the roster: the site's customer-service supervisor.
    await apply(
        runtime,
        envelope(
            runtime,
            "intake.request.classified.v1",
            "evt-engineering",
            request_id="req-0003",
            category="water",
            department="engineering",
            summary="Leak ignored",
        ),
    )
    [fallback] = await messages(runtime, source_event_id="evt-engineering")
    assert (fallback.party_id, fallback.recipient) == ("sup.harbour", "13800009001")
    assert fallback.body == "【有效投诉】工程部：投诉 req-0003（water，harbour-A-0101）Leak ignored"


async def test_a_reporter_without_any_address_is_logged_as_suppressed(notification) -> None:
    runtime, client = notification
    await apply(runtime, request_created(runtime, language="en", phone=None, name="Ann Lee", party_id=None))
    [message] = await messages(runtime)
    assert (message.status, message.reason, message.recipient, message.language) == (
        "suppressed",
        "no_address",
        "Ann Lee",
        "en",
    )
    [announced] = await outbox_events(runtime)
    assert (announced.data["status"], announced.data["reason"]) == ("suppressed", "no_address")
    listing = await client.get("/messages", params={"site": "harbour", "status": "suppressed"}, headers=auth(runtime))
    assert [m["reason"] for m in listing.json()["items"]] == ["no_address"]


async def test_a_charge_without_a_known_reporter_sends_nothing(notification) -> None:
    runtime, _ = notification
    unknown = envelope(runtime, "billing.charge.recorded.v1", "evt-charge-unknown", request_id="req-unknown")
    assert await apply(runtime, unknown) == "handled"
    monthly = envelope(runtime, "billing.charge.recorded.v1", "evt-charge-fee", request_id=None, work_order_id=None)
    assert await apply(runtime, monthly) == "handled"
    assert await messages(runtime) == []
    assert await send_pending(runtime, sink(runtime)) == 0


async def test_a_work_order_event_that_overtakes_its_request_is_retried_until_the_contact_arrives(notification) -> None:
    runtime, _ = notification
    early = envelope(runtime, "dispatch.workorder.created.v1", "evt-wo-early", request_id=REQUEST_ID)
    with pytest.raises(ContactNotYetKnown):
        await apply(runtime, early)  # transient: not recorded in the inbox, the consumer redelivers it
    assert await messages(runtime) == []
    await apply(runtime, request_created(runtime))
    assert await apply(runtime, early) == "handled"
    assert sorted(m.template for m in await messages(runtime)) == ["request.acknowledged", "workorder.assigned"]


# --- contacts -----------------------------------------------------------------------------------------


async def test_party_copies_follow_intake_and_ignore_older_versions(notification) -> None:
    runtime, _ = notification
    await apply(runtime, party_upserted(runtime, updated_at="2026-11-23T09:00:00+00:00", phone="13811111111"))
    await apply(
        runtime,
        party_upserted(runtime, event_id="evt-old", updated_at="2026-11-23T08:00:00+00:00", phone="13800000000"),
    )
    await apply(
        runtime,
        party_upserted(
            runtime, event_id="evt-moved-out", updated_at="2026-11-23T10:00:00+00:00", phone="13811111111", active=False
        ),
    )
    await apply(runtime, envelope(runtime, "intake.unit.upserted.v1", "evt-unit"))
    async with runtime.sessionmaker() as session:
        party = await session.get(Party, "harbour-A-0101-owner")
    assert party is not None
    assert (party.phone, party.active, party.extra_care, party.email) == (
        "13811111111",
        False,
        "",
        "li.wei@example.com",
    )
    # A moved-out party is not invited to surveys any more.
    assert await apply(runtime, envelope(runtime, "survey.invitation.requested.v1", "evt-survey")) == "handled"
    assert await messages(runtime) == []


# --- preferences: opt-outs, channels, quiet hours -----------------------------------------------------


async def test_optional_categories_can_be_opted_out_of_and_service_critical_ones_cannot(notification) -> None:
    runtime, client = notification
    await seed(runtime)
    owner = auth(runtime, roles=("owner",), party_id="harbour-A-0101-owner", sub="harbour-A-0101-owner")
    url = "/preferences/harbour-A-0101-owner"
    default = await client.get(url, headers=owner)
    assert default.status_code == 200
    assert default.json() | {"updated_at": None} == {
        "party_id": "harbour-A-0101-owner",
        "site": "harbour",
        "channels": ["sms"],
        "language": "zh-CN",
        "opt_outs": [],
        "quiet_hours": True,
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "timezone": "Asia/Shanghai",
        "customised": False,
        "updated_at": None,
    }

    refused = await client.put(url, json={"opt_outs": ["surveys", "service"]}, headers=owner)
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["field"] == "opt_outs"
    assert "service messages cannot be opted out of" in refused.text
    assert (await client.put(url, json={"opt_outs": ["emergency"]}, headers=owner)).status_code == 422
    assert (await client.put(url, json={"channels": []}, headers=owner)).status_code == 422
    # An owner manages only their own preferences.
    assert (await client.get("/preferences/harbour-A-0102-owner", headers=owner)).status_code == 404

    changed = await client.put(
        url, json={"opt_outs": ["surveys", "events"], "channels": ["sms", "push"]}, headers=owner
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["opt_outs"], changed.json()["channels"]) == (["events", "surveys"], ["sms", "push"])

    await apply(runtime, envelope(runtime, "survey.invitation.requested.v1", "evt-survey"))
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner"))
    rows = {(m.template, m.channel): (m.status, m.reason, m.recipient) for m in await messages(runtime)}
    assert rows == {
        ("survey.invitation", "sms"): ("suppressed", "opt_out", "13800000001"),
        ("survey.invitation", "push"): ("suppressed", "opt_out", "harbour-A-0101-owner"),
        ("request.acknowledged", "sms"): ("queued", None, "13800000001"),  # service-critical: still sent
        ("request.acknowledged", "push"): ("queued", None, "harbour-A-0101-owner"),
    }


async def test_quiet_hours_defer_routine_messages_and_emergencies_bypass_them(notification, clock) -> None:
    runtime, _ = notification
    await seed(runtime)
    # The request was raised in the afternoon; its completion arrives at 23:00 site time.
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner", created_at=DAY))
    await send_pending(runtime, sink(runtime), now=DAY)
    clock.now = NIGHT
    await apply(runtime, envelope(runtime, "dispatch.workorder.completed.v1", "evt-done", request_id=REQUEST_ID))
    [held] = await messages(runtime, template="workorder.completed")
    assert (held.status, utc(held.deferred_until), utc(held.next_attempt_at)) == ("queued", MORNING, MORNING)
    # "On the way" would be stale by the morning: suppressed, with the reason.
    await apply(
        runtime,
        envelope(
            runtime,
            "dispatch.workorder.status_changed.v1",
            "evt-otw",
            request_id=REQUEST_ID,
            from_status="accepted",
            to_status="on_the_way",
            changed_at=NIGHT.isoformat(),
        ),
    )
    [stale] = await messages(runtime, template="workorder.status_changed")
    assert (stale.status, stale.reason) == ("suppressed", "quiet_hours")

    # An emergency request at 23:00: acknowledged at once.
    urgent = request_created(runtime, "evt-burst", NIGHT, "req-burst", party_id="harbour-A-0102-owner")
    urgent.data.update(kind="emergency", priority="urgent")
    await apply(runtime, urgent)
    # A routine request raised at 23:00 is a conversation the owner started: its reply is not held back.
    await apply(runtime, request_created(runtime, "evt-late", NIGHT, "req-late", party_id="harbour-A-1201-owner"))
    assert await send_pending(runtime, sink(runtime), now=NIGHT + timedelta(minutes=1)) == 2
    sent = {m.request_id: (m.category, m.status) for m in await messages(runtime, template="request.acknowledged")}
    assert sent["req-burst"] == ("emergency", "sent") and sent["req-late"] == ("service", "sent")

    assert await send_pending(runtime, sink(runtime), now=MORNING - timedelta(minutes=1)) == 0
    assert await send_pending(runtime, sink(runtime), now=MORNING) == 1
    [done] = await messages(runtime, template="workorder.completed")
    assert (done.status, utc(done.sent_at)) == ("sent", MORNING)


async def test_an_owner_may_turn_quiet_hours_off_or_move_them(notification, clock) -> None:
    runtime, client = notification
    await seed(runtime)
    agent = auth(runtime)
    await client.put("/preferences/harbour-A-0101-owner", json={"quiet_hours": False}, headers=agent)
    moved = await client.put(
        "/preferences/harbour-A-0102-owner", json={"quiet_start": "23:30", "quiet_end": "06:00"}, headers=agent
    )
    assert (moved.json()["quiet_start"], moved.json()["quiet_end"]) == ("23:30", "06:00")
    clock.now = NIGHT  # 23:00: inside the default window, outside 23:30-06:00
    notice = message_service.Notice(
        template="broadcast.notice",
        category=message_service.Category.service,
        site="harbour",
        source_event_id="evt-x",
        correlation_id="c",
        localised={"title": {"zh-CN": "停水"}, "message": {"zh-CN": "明天停水"}},
    )
    async with runtime.uow() as uow:
        for party_id in ("harbour-A-0101-owner", "harbour-A-0102-owner", "harbour-A-1201-owner"):
            party = await uow.session.get(Party, party_id)
            assert party is not None
            recipient = await message_service.party_recipient(uow.session, party, NotificationSettings())
            await message_service.notify(uow, notice, recipient)
        await uow.commit()
    deferred = {m.party_id: utc(m.deferred_until) for m in await messages(runtime)}
    assert deferred == {"harbour-A-0101-owner": None, "harbour-A-0102-owner": None, "harbour-A-1201-owner": MORNING}


# --- dedupe and throttle ------------------------------------------------------------------------------


async def test_the_same_message_never_reaches_a_party_twice(notification) -> None:
    runtime, _ = notification
    await apply(runtime, request_created(runtime))
    await apply(runtime, envelope(runtime, "dispatch.workorder.completed.v1", "evt-done", request_id=REQUEST_ID))
    # Intake's "resolved" says what the completion said: a duplicate for this round of work.
    resolved = envelope(
        runtime,
        "intake.request.status_changed.v1",
        "evt-resolved",
        request_id=REQUEST_ID,
        from_status="in_progress",
        to_status="resolved",
    )
    await apply(runtime, resolved)
    completed = (await messages(runtime, template="workorder.completed"))[0]
    [duplicate] = await messages(runtime, template="request.status_changed")
    assert (duplicate.status, duplicate.reason, duplicate.duplicate_of) == ("suppressed", "duplicate", completed.id)
    # Reopened and done again: a new round, a new message.
    await apply(runtime, envelope(runtime, "intake.request.reopened.v1", "evt-reopen", request_id=REQUEST_ID))
    await apply(
        runtime,
        envelope(
            runtime,
            "intake.request.status_changed.v1",
            "evt-resolved-2",
            request_id=REQUEST_ID,
            from_status="in_progress",
            to_status="resolved",
        ),
    )
    second = (await messages(runtime, template="request.status_changed"))[-1]
    assert (second.status, second.body) == ("queued", "您的报修 3f6c1a9e 已解决")


async def test_a_party_is_throttled_but_emergencies_are_not(database_urls, tmp_path, clock) -> None:
    runtime = await make_runtime(database_urls, tmp_path, throttle_limit=2, throttle_window_minutes=60)
    try:
        await apply(runtime, request_created(runtime))
        for n in range(3):
            await apply(
                runtime,
                envelope(
                    runtime, "billing.charge.recorded.v1", f"evt-charge-{n}", request_id=REQUEST_ID, charge_id=f"ch-{n}"
                ),
            )
        statuses = sorted(
            ((m.template, m.status, m.reason or "", utc(m.deferred_until)) for m in await messages(runtime)), key=str
        )
        # A charge cannot be opted out of: over the throttle it waits out the window instead of being dropped.
        window_end = DAY + timedelta(minutes=60)
        assert statuses == [
            ("charge.recorded", "queued", "", None),
            ("charge.recorded", "queued", "", window_end),
            ("charge.recorded", "queued", "", window_end),
            ("request.acknowledged", "queued", "", None),
        ]
        urgent = envelope(
            runtime, "dispatch.workorder.created.v1", "evt-urgent", request_id=REQUEST_ID, priority="urgent"
        )
        await apply(runtime, urgent)
        [assigned] = await messages(runtime, template="workorder.assigned")
        assert (assigned.category, assigned.status) == ("emergency", "queued")
        # An hour later the window has moved on.
        clock.now = DAY + timedelta(minutes=61)
        await apply(
            runtime,
            envelope(
                runtime, "billing.charge.recorded.v1", "evt-charge-later", request_id=REQUEST_ID, charge_id="ch-later"
            ),
        )
        [later] = await messages(runtime, source_event_id="evt-charge-later")
        assert later.status == "queued"
    finally:
        await runtime.engine.dispose()


# --- channels: the file sink, a real HTTP gateway, a real SMTP server ---------------------------------


async def test_the_sink_writes_a_message_id_once_across_restarts_and_crashes(notification) -> None:
    runtime, _ = notification
    await apply(runtime, request_created(runtime))
    [queued] = await messages(runtime)
    first = FileSink.for_var_dir(runtime.settings.var_dir)
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


class Gateway:
    """A local HTTP SMS gateway: answers ``failures`` times with ``status``, then 200."""

    def __init__(self, failures: int, status: int = 503, delivered: bool = False) -> None:
        self.failures, self.status, self.delivered = failures, status, delivered
        self.calls: list[tuple[str, dict[str, Any]]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.calls.append((self.headers["Idempotency-Key"], body))
                failing = len(gateway.calls) <= gateway.failures
                answer = (
                    b'{"error":"busy"}'
                    if failing
                    else (b'{"status":"delivered"}' if gateway.delivered else b'{"status":"accepted"}')
                )
                self.send_response(gateway.status if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway_factory() -> Iterator[Any]:
    made: list[Gateway] = []

    def make(failures: int, status: int = 503, delivered: bool = False) -> Gateway:
        made.append(Gateway(failures, status, delivered))
        return made[-1]

    yield make
    for gateway in made:
        gateway.close()


async def _drive(runtime: Runtime, channels: Channels, start: datetime, rounds: int) -> list[datetime]:
    """Run the sender at each retry's due time; the times it found something due."""
    now, times = start, []
    for _ in range(rounds):
        await send_pending(runtime, channels, now=now)
        times.append(now)
        [message] = await messages(runtime)
        if message.status != "queued":
            break
        now = as_utc(message.next_attempt_at)
    return times


async def test_a_failing_sms_gateway_is_retried_with_backoff_until_it_answers(
    database_urls, tmp_path, clock, gateway_factory
) -> None:
    gateway = gateway_factory(failures=3)
    runtime = await make_runtime(
        database_urls, tmp_path, sms_gateway_url=gateway.url, send_retry_base_seconds=2, send_max_attempts=6
    )
    try:
        channels = build_channels(NotificationSettings(sms_gateway_url=gateway.url), tmp_path)
        await apply(runtime, request_created(runtime))
        times = await _drive(runtime, channels, DAY, rounds=10)
        assert [(t - DAY).total_seconds() for t in times] == [0, 2, 6, 14]  # waits of 2, 4, 8 s
        [message] = await messages(runtime)
        assert (message.status, message.attempts, message.last_error) == ("sent", 4, None)
        assert [key for key, _ in gateway.calls] == [message.id] * 4  # one idempotency key throughout
        assert gateway.calls[0][1] | {"body": ""} == {
            "message_id": message.id,
            "channel": "sms",
            "to": "13800000001",
            "body": "",
            "language": "zh-CN",
            "site": "harbour",
            "category": "service",
        }
        [announced] = await outbox_events(runtime)
        assert (announced.data["status"], announced.data["attempts"]) == ("sent", 4)
        await channels.aclose()
    finally:
        await runtime.engine.dispose()


async def test_a_gateway_that_keeps_failing_ends_in_failed_after_the_bound(
    database_urls, tmp_path, clock, gateway_factory
) -> None:
    down = gateway_factory(failures=100)
    refusing = gateway_factory(failures=100, status=400)
    runtime = await make_runtime(database_urls, tmp_path, send_retry_base_seconds=1, send_max_attempts=3)
    try:
        await apply(runtime, request_created(runtime))
        channels = build_channels(NotificationSettings(sms_gateway_url=down.url), tmp_path)
        times = await _drive(runtime, channels, DAY, rounds=10)
        assert [(t - DAY).total_seconds() for t in times] == [0, 1, 3]
        [failed] = await messages(runtime)
        assert (failed.status, failed.attempts, failed.last_error) == ("failed", 3, "SendError: gateway answered 503")
        assert len(down.calls) == 3
        [announced] = await outbox_events(runtime)
        assert announced.data["status"] == "failed"

        # A refusal (4xx) is final at once: retrying would be refused again.
        await apply(runtime, request_created(runtime, "evt-2", request_id="req-2"))
        channels = build_channels(NotificationSettings(sms_gateway_url=refusing.url), tmp_path)
        assert await send_pending(runtime, channels, now=DAY) == 1
        [refused] = await messages(runtime, request_id="req-2")
        assert (refused.status, refused.attempts) == ("failed", 1)
        assert refused.last_error is not None and "gateway refused the message: 400" in refused.last_error
    finally:
        await runtime.engine.dispose()


async def test_a_gateway_delivery_report_marks_the_message_delivered(
    database_urls, tmp_path, clock, gateway_factory
) -> None:
    gateway = gateway_factory(failures=0, delivered=True)
    runtime = await make_runtime(database_urls, tmp_path)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t")
    try:
        await apply(runtime, request_created(runtime))
        await apply(runtime, envelope(runtime, "dispatch.workorder.created.v1", "evt-wo", request_id=REQUEST_ID))
        channels = build_channels(NotificationSettings(sms_gateway_url=gateway.url), tmp_path)
        assert await send_pending(runtime, channels, now=DAY) == 2
        assert {m.status for m in await messages(runtime)} == {"delivered"}
        # A sent message takes a later receipt (POSTed by the gateway integration as an operator).
        await apply(runtime, envelope(runtime, "dispatch.workorder.completed.v1", "evt-done", request_id=REQUEST_ID))
        await send_pending(runtime, sink(runtime), now=DAY)
        [completed] = await messages(runtime, template="workorder.completed")
        operator = auth(runtime, roles=("operator",), sites=("*",))
        receipt = await client.post(f"/messages/{completed.id}/receipt", json={"status": "delivered"}, headers=operator)
        assert receipt.status_code == 200 and receipt.json()["status"] == "delivered"
        again = await client.post(f"/messages/{completed.id}/receipt", json={"status": "failed"}, headers=operator)
        assert again.status_code == 409
        assert (
            await client.post(f"/messages/{completed.id}/receipt", json={"status": "delivered"}, headers=auth(runtime))
        ).status_code == 403
        assert [e.data["status"] for e in await outbox_events(runtime)][-1] == "delivered"
        await channels.aclose()
    finally:
        await client.aclose()
        await runtime.engine.dispose()


class BrokenSender:
    transport = "http"
    concurrency = 1

    async def send(self, message: Message) -> Any:
        raise ConnectionError("gateway down")


async def test_a_retry_waits_out_quiet_hours_and_a_stale_message_expires(notification, clock) -> None:
    runtime, _ = notification
    await seed(runtime)
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner"))
    late = NIGHT - timedelta(seconds=1)  # 21:59:59 site time
    await send_pending(runtime, Channels(BrokenSender()), now=late)
    [message] = await messages(runtime)
    assert (message.status, message.attempts, utc(message.next_attempt_at)) == ("queued", 1, MORNING)
    assert message.last_error == "ConnectionError: gateway down"

    # "On the way" sent in the day, failing until it no longer means anything: suppressed as expired.
    await apply(
        runtime,
        envelope(
            runtime,
            "dispatch.workorder.status_changed.v1",
            "evt-otw",
            request_id=REQUEST_ID,
            from_status="accepted",
            to_status="on_the_way",
            changed_at=DAY.isoformat(),
        ),
    )
    await send_pending(runtime, Channels(BrokenSender()), now=DAY)
    assert await send_pending(runtime, sink(runtime), now=DAY + timedelta(hours=3)) == 1
    [stale] = await messages(runtime, template="workorder.status_changed")
    assert (stale.status, stale.reason, stale.attempts) == ("suppressed", "expired", 1)
    assert sink_lines(runtime) == []


class Mailbox:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_email_goes_over_smtp_to_a_local_server(notification) -> None:
    runtime, client = notification
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        await seed(runtime)  # B-0301's owner reads English and has an email address
        changed = await client.put(
            "/preferences/harbour-B-0301-owner", json={"channels": ["email"]}, headers=auth(runtime)
        )
        assert changed.status_code == 200
        await apply(runtime, request_created(runtime, party_id="harbour-B-0301-owner"))
        config = NotificationSettings(
            smtp_host="127.0.0.1", smtp_port=controller.port, smtp_from="desk@harbour.example"
        )
        assert await send_pending(runtime, build_channels(config, runtime.settings.var_dir)) == 1
        [message] = await messages(runtime)
        assert (message.status, message.channel, message.recipient) == ("sent", "email", "emily.chen@example.com")
        [mail] = mailbox.received
        assert (mail.mail_from, mail.rcpt_tos) == ("desk@harbour.example", ["emily.chen@example.com"])
        text = mail.content.decode()
        assert f"Message-ID: <{message.id}@notification.pm>" in text
        assert "Subject: Notice from your service center" in text
        assert "We have received your request 3f6c1a9e" in text
        assert sink_lines(runtime) == []
    finally:
        controller.stop()


# --- templates ----------------------------------------------------------------------------------------


async def test_administrators_edit_templates_per_site_and_group_wide(notification) -> None:
    runtime, client = notification
    manager = auth(runtime, roles=("manager",), sub="mgr.harbour")
    head = auth(runtime, roles=("head_office",), sites=("*",), sub="ho.1")
    url = "/templates/request.acknowledged/zh-CN"
    site_text = {"body": "【海港花园】已收到您的{kind}，单号 {ref}"}
    assert (await client.put(url, params={"site": "harbour"}, json=site_text, headers=manager)).status_code == 200
    assert (await client.put(url, params={"site": "*"}, json=site_text, headers=manager)).status_code == 403
    assert (await client.put(url, params={"site": "riverside"}, json=site_text, headers=manager)).status_code == 403
    as_agent = await client.put(url, params={"site": "harbour"}, json=site_text, headers=auth(runtime))
    assert as_agent.status_code == 403
    unknown = await client.put(url, params={"site": "harbour"}, json={"body": "{ref} {password}"}, headers=manager)
    assert unknown.status_code == 422 and unknown.json()["field"] == "body"
    assert "unknown variables password" in unknown.json()["detail"]
    assert (
        await client.put("/templates/nope/zh-CN", params={"site": "harbour"}, json=site_text, headers=manager)
    ).status_code == 404
    group = await client.put(
        "/templates/request.acknowledged/en",
        params={"site": "*"},
        json={"body": "Evergreen received {ref}", "subject": "Request {ref}"},
        headers=head,
    )
    assert group.status_code == 200 and group.json()["source"] == "group"

    await apply(runtime, request_created(runtime))
    await apply(runtime, request_created(runtime, "evt-en", request_id="req-en-00001", language="en"))
    bodies = {m.request_id: m.body for m in await messages(runtime)}
    assert bodies == {
        REQUEST_ID: "【海港花园】已收到您的repair，单号 3f6c1a9e",
        "req-en-00001": "Evergreen received req-en-0",
    }

    listing = await client.get("/templates", params={"site": "harbour"}, headers=manager)
    by_key = {(t["key"], t["language"]): t for t in listing.json()}
    assert by_key[("request.acknowledged", "zh-CN")]["source"] == "site"
    assert by_key[("request.acknowledged", "en")]["source"] == "group"
    assert by_key[("workorder.assigned", "zh-CN")]["source"] == "default"
    assert by_key[("workorder.assigned", "zh-CN")]["variables"] == ["ref", "department"]
    reverted = await client.delete(url, params={"site": "harbour"}, headers=manager)
    assert reverted.status_code == 200 and reverted.json()["source"] == "default"


# --- staff messages -----------------------------------------------------------------------------------


async def test_time_limits_warn_supervisors_and_breaches_reach_managers(notification) -> None:
    runtime, client = notification
    await seed(runtime)
    warning = envelope(runtime, "intake.request.timelimit.v1", "evt-warn", stage="warning")
    breach = envelope(runtime, "intake.request.timelimit.v1", "evt-breach")
    work_order = envelope(runtime, "dispatch.workorder.timelimit.v1", "evt-wo-breach")
    for event in (warning, breach, work_order):
        await apply(runtime, event)
    rows = [(m.source_event_id, m.party_id, m.category) for m in await messages(runtime)]
    assert sorted(rows) == sorted(
        [
            ("evt-warn", "sup.harbour", "staff"),
            ("evt-breach", "sup.harbour", "staff"),
            ("evt-breach", "mgr.harbour", "staff"),
            ("evt-wo-breach", "duty.harbour.engineering", "staff"),
            ("evt-wo-breach", "sup.harbour", "staff"),
            ("evt-wo-breach", "mgr.harbour", "staff"),
        ]
    )
    [warned] = await messages(runtime, source_event_id="evt-warn")
    assert warned.body == "【预警】报修 req-0001（water，harbour-A-0101）响应时限 11-23 18:30"
    # Staff messages ignore quiet hours and throttle: they are on duty.
    assert {m.status for m in await messages(runtime)} == {"queued"}
    assert {m.deferred_until for m in await messages(runtime)} == {None}

    roster = await client.get("/staff", params={"site": "harbour"}, headers=auth(runtime, roles=("manager",)))
    assert len(roster.json()) == 6
    added = await client.put(
        "/staff/sup2.harbour",
        json={"site": "harbour", "role": "supervisor", "name": "Lin Yu", "phone": "13800009003", "language": "en"},
        headers=auth(runtime, roles=("manager",)),
    )
    assert added.status_code == 200
    await apply(
        runtime, envelope(runtime, "intake.request.timelimit.v1", "evt-warn-2", stage="warning", limit="progress_reply")
    )
    english = [m for m in await messages(runtime, source_event_id="evt-warn-2") if m.party_id == "sup2.harbour"]
    assert english[0].body == "[WARNING] request req-0001 (water, harbour-A-0101): progress reply due 11-23 18:30"
    assert (
        await client.put(
            "/staff/x",
            json={"site": "riverside", "role": "duty", "name": "X"},
            headers=auth(runtime, roles=("manager",)),
        )
    ).status_code == 403


# --- reads --------------------------------------------------------------------------------------------


async def test_messages_are_read_within_the_callers_sites_and_owners_see_their_own(notification) -> None:
    runtime, client = notification
    await seed(runtime)
    await apply(runtime, request_created(runtime, party_id="harbour-A-0101-owner"))
    other = json.loads((EXAMPLES / "intake.request.created.v1.json").read_text())
    other.update(request_id="req-riverside", site="riverside", unit_id="riverside-T1-1501")
    other["reporter"]["party_id"] = "riverside-T1-1501-owner"
    await apply(runtime, envelope(runtime, "intake.request.created.v1", "evt-riverside", other))
    await send_pending(runtime, sink(runtime))

    listing = await client.get("/messages", params={"site": "harbour", "request_id": REQUEST_ID}, headers=auth(runtime))
    assert listing.status_code == 200
    [item] = listing.json()["items"]
    assert (item["request_id"], item["status"], item["template"], item["party_id"]) == (
        REQUEST_ID,
        "sent",
        "request.acknowledged",
        "harbour-A-0101-owner",
    )
    assert (await client.get("/messages", headers=auth(runtime))).json()["total"] == 1
    everyone = auth(runtime, roles=("operator",), sites=("*",))
    assert (await client.get("/messages", headers=everyone)).json()["total"] == 2
    by_party = await client.get("/messages", params={"party_id": "riverside-T1-1501-owner"}, headers=everyone)
    assert [m["site"] for m in by_party.json()["items"]] == ["riverside"]
    assert (await client.get("/messages", params={"request_id": "req-unknown"}, headers=auth(runtime))).json()[
        "total"
    ] == 0

    detail = await client.get(f"/messages/{item['id']}", headers=auth(runtime))
    assert detail.status_code == 200 and detail.json() == item
    [riverside] = await messages(runtime, site="riverside")
    assert (await client.get(f"/messages/{riverside.id}", headers=auth(runtime))).status_code == 403
    assert (await client.get(f"/messages/{riverside.id}", headers=everyone)).status_code == 200
    assert (await client.get("/messages/nope", headers=auth(runtime))).status_code == 404

    owner = auth(runtime, roles=("owner",), party_id="harbour-A-0101-owner", sub="owner")
    mine = await client.get("/messages", params={"site": "harbour"}, headers=owner)
    assert [m["id"] for m in mine.json()["items"]] == [item["id"]]
    neighbour = auth(runtime, roles=("owner",), party_id="harbour-A-0102-owner", sub="owner2")
    assert (await client.get("/messages", params={"site": "harbour"}, headers=neighbour)).json()["total"] == 0
    assert (await client.get(f"/messages/{item['id']}", headers=neighbour)).status_code == 404

    forbidden = await client.get("/messages", params={"site": "riverside"}, headers=auth(runtime))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == PROBLEM_JSON
    assert (await client.get("/messages", headers=auth(runtime, roles=("worker",)))).status_code == 403
    anonymous = await client.get("/messages", params={"site": "harbour"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM_JSON


# --- broadcasts ---------------------------------------------------------------------------------------


async def _many_parties(runtime: Runtime, site: str, buildings: dict[str, int]) -> None:
    """Units and owners the way intake announces them, in bulk."""
    from notification.contact.models import Unit

    async with runtime.sessionmaker() as session:
        for building, count in buildings.items():
            for n in range(count):
                unit_id = f"{site}-{building}-{n:04d}"
                session.add(
                    Unit(
                        unit_id=unit_id,
                        site=site,
                        building=building,
                        number=f"{building}-{n:04d}",
                        floor=1,
                        area_m2=Decimal("80.00"),
                        use="residential",
                        occupied=True,
                        updated_at=DAY,
                    )
                )
                session.add(
                    Party(
                        party_id=f"{unit_id}-owner",
                        site=site,
                        unit_id=unit_id,
                        role="owner",
                        name=f"Owner {n}",
                        phone=f"139{n:08d}",
                        email=None,
                        language="en" if n % 5 == 0 else "zh-CN",
                        extra_care="",
                        active=True,
                        updated_at=DAY,
                    )
                )
        await session.commit()


def _message(broadcast_id: str, party_id: str, status: str) -> Message:
    now = datetime.now(UTC)
    return Message(
        id=f"m-{party_id}",
        site="harbour",
        audience="owner",
        party_id=party_id,
        broadcast_id=broadcast_id,
        category="service",
        channel="sms",
        recipient="13800000000",
        template="broadcast.notice",
        language="zh-CN",
        body="停水",
        status=status,
        source_event_id=f"e-{party_id}",
        correlation_id="c",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )


# PostgreSQL only: SQLite's read transaction locks out the writer, so there the race cannot happen.
@pytest.mark.parametrize("database_urls", ["postgres"], indirect=True)
async def test_broadcast_progress_is_read_from_one_snapshot(database_urls, tmp_path, clock) -> None:
    """A message committed while progress is being read must not make a broadcast look final, then not."""
    runtime = await make_runtime(database_urls, tmp_path)
    try:
        async with runtime.sessionmaker() as session:
            broadcast = Broadcast(
                id="b-snapshot",
                site="harbour",
                kind="water_cut",
                category="water_cut",
                urgency="normal",
                title={"zh-CN": "停水"},
                text={"zh-CN": "停水"},
                state="started",
                requested_by="sup",
                correlation_id="c",
                recipients=2,
                created_at=datetime.now(UTC),
            )
            session.add_all([broadcast, _message("b-snapshot", "p-1", "sent")])
            await session.commit()
        engine = runtime.engine.sync_engine
        late = _message("b-snapshot", "p-2", "queued")

        def commit_a_message_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # Right after the first read of the messages, the second recipient's (still queued) message commits.
            if "FROM messages" in statement and not inserted:
                inserted.append(True)
                with engine.connect() as writer:
                    writer.execute(
                        Message.__table__.insert().values(
                            {c.key: getattr(late, c.key) for c in Message.__table__.columns}
                        )
                    )
                    writer.commit()

        inserted: list[bool] = []
        sa_event.listen(engine, "after_cursor_execute", commit_a_message_meanwhile)
        try:
            async with runtime.sessionmaker() as session:
                loaded = await session.get(Broadcast, "b-snapshot")
                assert loaded is not None
                first = await broadcast_service.progress(session, loaded)
        finally:
            sa_event.remove(engine, "after_cursor_execute", commit_a_message_meanwhile)
        assert inserted, "the concurrent commit did not happen"
        assert not first.final, first
        async with runtime.sessionmaker() as session:
            loaded = await session.get(Broadcast, "b-snapshot")
            assert loaded is not None
            second = await broadcast_service.progress(session, loaded)
        assert (second.reached, second.by_status["queued"], second.final) == (2, 1, False)
    finally:
        await runtime.stop()


async def _progress(client: httpx.AsyncClient, runtime: Runtime, broadcast_id: str) -> dict[str, Any]:
    response = await client.get(f"/broadcasts/{broadcast_id}", headers=auth(runtime, roles=("supervisor",)))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_broadcast_fans_out_through_jetstream_and_completes(
    database_urls, tmp_path, clock, nats_server: NatsServer
) -> None:
    runtime = await make_runtime(database_urls, tmp_path, nats_url=nats_server.url)
    await provision(nats_server.url)
    await _many_parties(runtime, "harbour", {"A": 30, "B": 20})
    async with runtime.sessionmaker() as session:
        moved_out = await session.get(Party, "harbour-A-0003-owner")
        assert moved_out is not None
        moved_out.active = False
        await session.commit()
    # One owner opted out of events, so a community event skips them (a water cut would not).
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t")
    supervisor = auth(runtime, roles=("supervisor",))
    await client.put("/preferences/harbour-A-0001-owner", json={"opt_outs": ["events"]}, headers=supervisor)
    await runtime.start()
    try:
        water = {
            "site": "harbour",
            "kind": "water_cut",
            "title": "停水通知",
            "message": "明天9:00-12:00 A座停水",
            "translations": {"en": "Water off in block A tomorrow 9:00-12:00"},
            "title_translations": {"en": "Water cut"},
            "buildings": ["A"],
            "dedupe_key": "water-2026-11-24",
        }
        created = await client.post("/broadcasts", json=water, headers=supervisor)
        assert created.status_code == 201, created.text
        broadcast_id = created.json()["id"]
        assert created.json()["state"] == "started" and created.json()["progress"]["recipients"] == 29
        again = await client.post("/broadcasts", json=water, headers=supervisor)
        assert (again.status_code, again.json()["id"]) == (200, broadcast_id)

        async def finished() -> bool:
            return bool((await _progress(client, runtime, broadcast_id))["progress"]["final"])

        await eventually(finished, timeout=60)
        progress = (await _progress(client, runtime, broadcast_id))["progress"]
        assert progress | {"by_status": None} == {
            "recipients": 29,
            "reached": 29,
            "messages": 30,
            "by_status": None,
            "suppressed_by_reason": {},
            "final": True,
        }
        assert progress["by_status"] == {"queued": 0, "sent": 30, "delivered": 0, "failed": 0, "suppressed": 0}
        rows = await messages(runtime, broadcast_id=broadcast_id)
        board = [m for m in rows if m.channel == "notice_board"]
        assert [(m.recipient, m.body) for m in board] == [("harbour/A", "【停水通知】明天9:00-12:00 A座停水")]
        english = next(m for m in rows if m.party_id == "harbour-A-0000-owner")
        assert english.body == "[Water cut] Water off in block A tomorrow 9:00-12:00"
        assert len({m.party_id for m in rows if m.audience == "owner"}) == 29

        async def relayed() -> bool:  # fan-out events + sent events (the relay publishes them after commit)
            stream = await runtime.nc.jetstream().stream_info("NOTIFICATION") if runtime.nc else None
            return stream is not None and stream.state.messages >= 29 + 30

        await eventually(relayed, timeout=30)

        # A scheduled community event to the whole site: nothing until its timer fires.
        # (The timer loop runs in the background on the real clock: due in two real days, it stays put.)
        real = datetime.now(UTC)
        event = {
            "site": "harbour",
            "kind": "community_event",
            "title": "中秋联欢",
            "message": "周六晚会",
            "scheduled_at": (real + timedelta(days=2)).isoformat(),
            "notice_board": False,
        }
        scheduled = await client.post("/broadcasts", json=event, headers=supervisor)
        assert scheduled.status_code == 201 and scheduled.json()["state"] == "scheduled"
        scheduled_id = scheduled.json()["id"]
        assert await fire_due(runtime, timers, now=real + timedelta(days=1)) == 0
        assert await fire_due(runtime, timers, now=real + timedelta(days=2, seconds=1)) == 1

        async def event_finished() -> bool:
            return bool((await _progress(client, runtime, scheduled_id))["progress"]["final"])

        await eventually(event_finished, timeout=60)
        progress = (await _progress(client, runtime, scheduled_id))["progress"]
        assert (progress["recipients"], progress["by_status"]["sent"], progress["suppressed_by_reason"]) == (
            49,
            48,
            {"opt_out": 1},
        )
        listing = await client.get("/broadcasts", params={"site": "harbour"}, headers=supervisor)
        assert listing.json()["total"] == 2
        assert (await client.post(f"/broadcasts/{scheduled_id}/cancel", headers=supervisor)).status_code == 409
    finally:
        await client.aclose()
        await runtime.stop()


async def test_a_scheduled_broadcast_can_be_cancelled_and_targets_are_checked(notification) -> None:
    runtime, client = notification
    await seed(runtime)
    manager = auth(runtime, roles=("manager",))
    body = {
        "site": "harbour",
        "kind": "storm",
        "title": "台风",
        "message": "请关好门窗",
        "unit_ids": ["harbour-A-0101"],
        "scheduled_at": (DAY + timedelta(hours=3)).isoformat(),
    }
    created = await client.post("/broadcasts", json=body, headers=manager)
    assert created.status_code == 201 and created.json()["state"] == "scheduled"
    cancelled = await client.post(f"/broadcasts/{created.json()['id']}/cancel", headers=manager)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert await fire_due(runtime, timers, now=DAY + timedelta(hours=4)) == 0
    assert await outbox_events(runtime, "notification.broadcast.recipient.v1") == []

    unknown = await client.post("/broadcasts", json=body | {"unit_ids": ["harbour-Z-9999"]}, headers=manager)
    assert unknown.status_code == 422 and unknown.json()["field"] == "unit_ids"
    both = await client.post("/broadcasts", json=body | {"buildings": ["A"]}, headers=manager)
    assert both.status_code == 422
    assert (await client.post("/broadcasts", json=body, headers=auth(runtime))).status_code == 403
    assert (await client.post("/broadcasts", json=body | {"site": "riverside"}, headers=manager)).status_code == 403


async def test_an_incident_broadcast_reaches_its_units_at_night_and_extra_care_gets_a_call(notification, clock) -> None:
    runtime, _ = notification
    await seed(runtime)
    clock.now = NIGHT
    incident = envelope(
        runtime, "intake.incident.broadcast.v1", "evt-incident", unit_ids=["harbour-A-0101", "harbour-A-1201"]
    )
    assert await apply(runtime, incident) == "handled"
    fanned = await outbox_events(runtime, "notification.broadcast.recipient.v1")
    assert sorted(e.data["party_id"] for e in fanned) == ["harbour-A-0101-owner", "harbour-A-1201-owner"]
    assert {(e.causationid, e.subject) for e in fanned} == {("evt-incident", "bc-0001")}
    for event in fanned:  # what the durable notification-broadcast does with them
        assert await apply(runtime, event) == "handled"
    rows = {(m.party_id, m.channel): m for m in await messages(runtime, broadcast_id="bc-0001")}
    assert set(rows) == {
        ("harbour-A-0101-owner", "sms"),
        ("harbour-A-1201-owner", "sms"),
        ("harbour-A-1201-owner", "call_task"),
        (None, "notice_board"),
    }
    assert {m.category for k, m in rows.items() if k[1] != "notice_board"} == {"emergency"}
    assert {m.deferred_until for m in rows.values()} == {None}  # emergencies ignore quiet hours
    call = rows[("harbour-A-1201-owner", "call_task")]
    assert call.body.startswith("请致电 Zhang Min（harbour-A-1201，13800000003）告知：紧急通知。")
    assert await send_pending(runtime, sink(runtime), now=NIGHT) == 4
