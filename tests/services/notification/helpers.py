"""Helpers the notification tests share: the clock, runtimes, envelopes of other services' events, reads."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select

from notification.config import NotificationSettings
from notification.main import build_runtime, subscriptions
from notification.message.channels import Channels, FileSink
from notification.message.models import Message
from notification.times import as_utc
from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.consumer import apply_event
from pm_platform.envelope import Envelope
from pm_platform.runtime import Runtime
from pm_platform.settings import REPO_ROOT, Settings

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


def sink(runtime: Runtime) -> Channels:
    return Channels(FileSink.for_var_dir(runtime.settings.var_dir))


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def auth(
    runtime: Runtime, roles=("agent",), sites=("harbour",), party_id: str | None = None, sub: str = "agent.1"
) -> dict[str, str]:
    token = mint_token(runtime.settings, sub, list(roles), list(sites), party_id=party_id)
    return {"Authorization": "Bearer " + token}


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
