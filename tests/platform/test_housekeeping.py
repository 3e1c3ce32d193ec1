"""Housekeeping purges what has outlived its retention and nothing a guarantee still needs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from pm_platform.envelope import utcnow
from pm_platform.housekeeping import purge
from tests.platform.harness import Probe


async def test_purge_keeps_pending_rows_and_recent_history(database_urls: dict[str, str], tmp_path: Path) -> None:
    probe = Probe("intake", database_urls["probe"], "nats://127.0.0.1:1", tmp_path)
    await probe.create_schema()
    tables = probe.tables
    now = utcnow()
    old, recent, ancient = now - timedelta(days=10), now - timedelta(days=1), now - timedelta(days=200)

    def outbox_row(event_id: str, status: str, published_at: object) -> dict[str, object]:
        return {
            "event_id": event_id,
            "subject": "intake.request.created.v1.harbour",
            "type": "intake.request.created.v1",
            "payload": "{}",
            "status": status,
            "attempts": 0,
            "created_at": ancient,
            "next_attempt_at": ancient,
            "published_at": published_at,
        }

    async with probe.runtime.sessionmaker() as session:
        await session.execute(
            insert(tables.outbox),
            [
                outbox_row("published-old", "published", old),
                outbox_row("published-recent", "published", recent),
                outbox_row("pending-ancient", "pending", None),  # stuck, never purged: an operator must see it
            ],
        )
        await session.execute(
            insert(tables.inbox),
            [
                {"consumer": "c", "event_id": "seen-ancient", "event_type": "t", "received_at": ancient},
                {"consumer": "c", "event_id": "seen-old", "event_type": "t", "received_at": old},
            ],
        )
        await session.execute(
            insert(tables.timers),
            [
                {"kind": "k", "key": "fired-ancient", "due_at": ancient, "payload": "{}", "status": "fired"},
                {"kind": "k", "key": "pending-ancient", "due_at": ancient, "payload": "{}", "status": "pending"},
            ],
        )
        tp = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
        await session.execute(
            insert(tables.request_traces),
            [
                {"correlation_id": "r-ancient", "traceparent": tp, "created_at": ancient},
                {"correlation_id": "r-old", "traceparent": tp, "created_at": old},
            ],
        )
        await session.commit()

    assert await purge(probe.runtime, now=now) == {"outbox": 1, "inbox": 1, "timers": 1, "request_traces": 1}
    assert {r["event_id"] for r in await probe.rows(tables.outbox)} == {"published-recent", "pending-ancient"}
    assert [r["event_id"] for r in await probe.rows(tables.inbox)] == ["seen-old"]
    assert [r["key"] for r in await probe.rows(tables.timers)] == ["pending-ancient"]
    assert [r["correlation_id"] for r in await probe.rows(tables.request_traces)] == ["r-old"]
    await probe.runtime.engine.dispose()
