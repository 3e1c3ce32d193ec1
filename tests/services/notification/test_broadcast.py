"""notification.broadcast: broadcasts fanned out through a real nats-server, their progress, cancellation,
incident broadcasts, and completion once every recipient's messages are final (on SQLite and PostgreSQL).
"""

# ruff: noqa: RUF001

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from notification.broadcast import service as broadcast_service
from notification.broadcast.models import Broadcast
from notification.contact.models import Party
from notification.main import create, timers
from notification.message import service as message_service
from notification.message.models import Message
from notification.message.sender import send_pending
from notification.preference.models import Category
from notification.seed import seed
from pm_platform.natsserver import NatsServer
from pm_platform.runtime import Runtime
from pm_platform.timers import fire_due
from tests.platform.harness import eventually, provision
from tests.services.notification.helpers import (
    DAY,
    NIGHT,
    apply,
    auth,
    envelope,
    make_runtime,
    messages,
    outbox_events,
    sink,
    utc,
)


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
