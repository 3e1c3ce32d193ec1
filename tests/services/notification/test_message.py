"""notification.message: messages decided in the event's transaction (dedupe, throttle, quiet hours with the
emergency bypass) and sent by the sender job through the file sink, a real SMTP server and a real HTTP gateway
(retries with backoff); staff messages and reads (on SQLite and PostgreSQL).
"""

# ruff: noqa: RUF001

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from notification.config import NotificationSettings
from notification.contact.models import RequestContact
from notification.main import create
from notification.message.channels import Channels, FileSink, build_channels
from notification.message.handlers import ContactNotYetKnown
from notification.message.models import Message, message_id
from notification.message.sender import send_pending
from notification.seed import seed
from notification.times import as_utc
from pm_platform.problems import PROBLEM_JSON
from pm_platform.runtime import Runtime
from tests.services.notification.helpers import (
    DAY,
    EXAMPLES,
    MORNING,
    NIGHT,
    REQUEST_ID,
    apply,
    auth,
    envelope,
    make_runtime,
    messages,
    outbox_events,
    party_upserted,
    request_created,
    sink,
    utc,
)


def sink_lines(runtime: Runtime) -> list[dict[str, Any]]:
    path = runtime.settings.var_dir / "notifications" / "sink.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


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


# --- preferences: opt-outs, channels, quiet hours -----------------------------------------------------


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


# --- the throttle defers; moves and cancellations are told ----------------------------------------


async def test_the_owner_is_told_which_department_has_the_work_after_it_moves(database_urls, tmp_path, clock) -> None:
    runtime = await make_runtime(database_urls, tmp_path)
    try:
        await apply(runtime, request_created(runtime, language="en"))
        await apply(runtime, envelope(runtime, "dispatch.workorder.created.v1", "evt-wo", request_id=REQUEST_ID))
        # A complaint classified for security: dispatch moves the order there, and the owner hears so.
        moved = {
            "request_id": REQUEST_ID,
            "department": "security",
            "from_department": "engineering",
            "from_status": "created",
            "to_status": "transferred",
            "assignee": None,
            "reason": "valid complaint: security is responsible",
        }
        await apply(runtime, envelope(runtime, "dispatch.workorder.status_changed.v1", "evt-moved", **moved))
        first, second = await messages(runtime, template="workorder.assigned")
        assert "engineering" in first.body
        assert second.body.endswith("assigned to the security team; they are on the way"), second.body
        assert second.status == "queued" and second.source_event_id == "evt-moved"
    finally:
        await runtime.engine.dispose()


async def test_the_worker_holding_a_cancelled_order_is_told_not_to_go(database_urls, tmp_path, clock) -> None:
    runtime = await make_runtime(database_urls, tmp_path)
    try:
        await seed(runtime)  # the roster: engineering's phone on duty at harbour
        await apply(runtime, request_created(runtime))
        cancelled = {
            "request_id": REQUEST_ID,
            "department": "engineering",
            "from_status": "accepted",
            "to_status": "cancelled",
            "assignee": "eng.harbour",
            "actor": "agent.harbour",
            "reason": "request cancelled: duplicate of 1a2b",
        }
        await apply(runtime, envelope(runtime, "dispatch.workorder.status_changed.v1", "evt-cancel", **cancelled))
        [told] = await messages(runtime, template="staff.workorder.cancelled")
        # The worker is not on notification's roster: the department's phone on duty gets it, at once.
        assert (told.audience, told.party_id, told.status) == ("staff", "duty.harbour.engineering", "queued")
        assert "已取消" in told.body and "request cancelled: duplicate of 1a2b" in told.body
        # Nobody held it: nobody to tell.
        unheld = {**cancelled, "assignee": None, "work_order_id": "wo-0002"}
        await apply(runtime, envelope(runtime, "dispatch.workorder.status_changed.v1", "evt-cancel-2", **unheld))
        assert len(await messages(runtime, template="staff.workorder.cancelled")) == 1
    finally:
        await runtime.engine.dispose()


# --- unit tests: pure rules, no database, no NATS, no app (pytest -m unit) ------------------------


@pytest.mark.unit
def test_unit_one_event_yields_at_most_one_message_per_template_recipient_and_channel() -> None:
    first = message_id("evt-1", "request.acknowledged", "p-1", "sms")
    assert first == message_id("evt-1", "request.acknowledged", "p-1", "sms")
    others = {
        message_id("evt-2", "request.acknowledged", "p-1", "sms"),
        message_id("evt-1", "workorder.completed", "p-1", "sms"),
        message_id("evt-1", "request.acknowledged", "p-2", "sms"),
        message_id("evt-1", "request.acknowledged", "p-1", "email"),
        message_id("evt-1", "request.acknowledged"),
    }
    assert first not in others and len(others) == 5
