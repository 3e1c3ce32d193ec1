"""Notification: a message that cannot be opted out of is deferred past the throttle, never dropped; a broadcast
is completed when every recipient's messages are final (SQLite and PostgreSQL, no NATS: the fan-out events are
fed to the handler)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from notification.broadcast.models import Broadcast
from notification.contact.models import Party
from notification.main import create
from notification.message import service as message_service
from notification.message.sender import send_pending
from notification.preference.models import Category
from notification.seed import seed
from pm_platform.runtime import Runtime
from tests.services import test_notification as base
from tests.services.test_notification import (
    DAY,
    REQUEST_ID,
    _many_parties,
    _progress,
    apply,
    auth,
    envelope,
    make_runtime,
    messages,
    outbox_events,
    request_created,
    sink,
    utc,
)

clock = base.clock  # the fixture, shared with the service's main tests
BUSY = "harbour-A-0001-owner"


async def busy_hour(runtime: Runtime, count: int, hour: int = 0) -> None:
    """``count`` service messages to the busy owner just now (say, a flurry about their repair)."""
    async with runtime.uow() as uow:
        party = await uow.session.get(Party, BUSY)
        assert party is not None
        recipient = await message_service.party_recipient(uow.session, party, message_service.config_of(runtime))
        for n in range(count):
            notice = message_service.Notice(
                template="broadcast.notice",
                category=Category.service,
                site="harbour",
                source_event_id=f"evt-busy-{hour}-{n}",
                correlation_id="c",
                localised={"title": {"zh-CN": "通知"}, "message": {"zh-CN": f"第{n}条"}},
            )
            await message_service.notify(uow, notice, recipient)
        await uow.commit()


async def fan_out(runtime: Runtime, client: httpx.AsyncClient, body: dict) -> str:
    """Create a broadcast and deliver its recipient events as the broadcast consumer would."""
    created = await client.post("/broadcasts", json=body, headers=auth(runtime, roles=("supervisor",)))
    assert created.status_code == 201, created.text
    broadcast_id = created.json()["id"]
    for event in await outbox_events(runtime, "notification.broadcast.recipient.v1"):
        if event.data["broadcast_id"] == broadcast_id:
            assert await apply(runtime, event) == "handled"
    return str(broadcast_id)


async def stored_state(runtime: Runtime, broadcast_id: str) -> str:
    async with runtime.sessionmaker() as session:
        return str(await session.scalar(select(Broadcast.state).where(Broadcast.id == broadcast_id)))


async def test_a_water_cut_waits_out_the_throttle_and_the_broadcast_then_completes(
    database_urls, tmp_path, clock
) -> None:
    runtime = await make_runtime(database_urls, tmp_path, throttle_limit=2, throttle_window_minutes=60)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create(runtime)), base_url="http://t")
    try:
        await _many_parties(runtime, "harbour", {"A": 3})
        await busy_hour(runtime, 2)
        water = {
            "site": "harbour",
            "kind": "water_cut",
            "title": "停水通知",
            "message": "明天9:00-12:00 A座停水",
            "buildings": ["A"],
            "notice_board": False,
        }
        broadcast_id = await fan_out(runtime, client, water)
        rows = await messages(runtime, broadcast_id=broadcast_id)
        assert len(rows) == 3 and all(m.status == "queued" for m in rows)
        [busy] = [m for m in rows if m.party_id == BUSY]
        assert utc(busy.deferred_until) == utc(busy.next_attempt_at) == DAY + timedelta(minutes=60)

        assert await send_pending(runtime, sink(runtime), now=DAY) == 4  # the busy hour and two owners
        assert await stored_state(runtime, broadcast_id) == "started"
        assert (await _progress(client, runtime, broadcast_id))["state"] == "started"
        clock.now = DAY + timedelta(minutes=61)
        assert await send_pending(runtime, sink(runtime), now=clock.now) == 1
        [busy] = await messages(runtime, broadcast_id=broadcast_id, party_id=BUSY)
        assert busy.status == "sent"
        assert await stored_state(runtime, broadcast_id) == "completed"
        read = await _progress(client, runtime, broadcast_id)
        assert read["state"] == "completed" and read["progress"]["final"] is True

        # An optional message (a community event) over the throttle is still dropped; with nothing else left to
        # send for it, the broadcast is complete once its messages are sent.
        await busy_hour(runtime, 2, hour=1)
        party = {
            "site": "harbour",
            "kind": "community_event",
            "title": "中秋联欢",
            "message": "周六晚会",
            "unit_ids": ["harbour-A-0001"],
            "notice_board": False,
        }
        event_id = await fan_out(runtime, client, party)
        [dropped] = await messages(runtime, broadcast_id=event_id)
        assert (dropped.status, dropped.reason) == ("suppressed", "throttled")
        assert await stored_state(runtime, event_id) == "completed"
    finally:
        await client.aclose()
        await runtime.engine.dispose()


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
