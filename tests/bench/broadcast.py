"""A broadcast to a site of N units through the real notification runtime, in process.

The site has N units with one owner each (SMS by default, to the file sink). The clock starts when the
supervisor's broadcast is created (one transaction: the broadcast row and N per-recipient events in the
outbox); it stops when the broadcast's progress is final: the relay has published the N fan-out events to
the NOTIFICATION stream, the durable consumer ``notification-broadcast`` has recorded each recipient's
message (preferences, dedupe, throttle, quiet hours decided per party) in its own transaction, and the
sender job has written every message to the sink and marked it sent, announcing each with
``notification.message.sent.v1`` through the outbox. Quiet hours are off for the run (a bench run at night
in Shanghai would otherwise, correctly, hold every message until 08:00).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from notification.broadcast import service as broadcast_service
from notification.broadcast.models import BroadcastCreate, Kind
from notification.config import NotificationSettings
from notification.contact.models import Party, Unit
from notification.main import build_runtime
from pm_platform import bus, migrations
from pm_platform.auth import Principal
from pm_platform.envelope import utcnow
from pm_platform.settings import REPO_ROOT, Settings
from tests.bench.common import wait_until

SITE = "harbour"
BUILDINGS = 40


@dataclass
class BroadcastResult:
    units: int
    recipients: int
    messages: int
    create_seconds: float  # the creating transaction: N fan-out events into the outbox
    seconds: float  # from the create until every message is final
    finished: bool
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def _seed(runtime: Any, units: int) -> None:
    now = utcnow()
    unit_rows, party_rows = [], []
    for n in range(units):
        building = f"B{n % BUILDINGS:02d}"
        unit_id = f"{SITE}-{building}-{n:05d}"
        unit_rows.append({"unit_id": unit_id, "site": SITE, "building": building, "occupied": True, "updated_at": now})
        party_rows.append(
            {
                "party_id": f"{unit_id}-owner",
                "site": SITE,
                "unit_id": unit_id,
                "role": "owner",
                "name": f"Owner {n}",
                "phone": f"139{n:08d}",
                "email": None,
                "language": "en" if n % 5 == 0 else "zh-CN",
                "extra_care": "",
                "active": True,
                "updated_at": now,
            }
        )
    async with runtime.sessionmaker() as session:
        for start in range(0, units, 2000):
            await session.execute(insert(Unit), unit_rows[start : start + 2000])
            await session.execute(insert(Party), party_rows[start : start + 2000])
        await session.commit()


async def broadcast_to_site(
    nats_url: str, database_url: str, var_dir: Path, units: int, within: float
) -> BroadcastResult:
    nc = await bus.connect(nats_url, "bench-broadcast")
    try:
        await bus.provision(nc, bus.load_topology(REPO_ROOT / "deploy"))
    finally:
        await nc.close()
    settings = Settings(service="notification", var_dir=var_dir, database_url=database_url, nats_url=nats_url)
    await asyncio.to_thread(migrations.upgrade, "notification", settings)
    config = NotificationSettings(quiet_start="00:00", quiet_end="00:00")  # type: ignore[arg-type]
    runtime = build_runtime(settings=settings, config=config)
    await _seed(runtime, units)
    supervisor = Principal(subject="bench.supervisor", roles=frozenset({"supervisor"}), sites=frozenset({SITE}))
    body = BroadcastCreate(
        site=SITE,
        kind=Kind.water_cut,
        title="停水通知",
        message="明天9:00-12:00全小区停水",
        translations={"en": "Water off across the site tomorrow 9:00-12:00"},
        title_translations={"en": "Water cut"},
        notice_board=False,
    )
    await runtime.start()
    try:
        started = time.perf_counter()
        async with runtime.uow() as uow:
            broadcast, _ = await broadcast_service.create(uow, supervisor, body)
        created = time.perf_counter() - started
        last: dict[str, Any] = {}

        async def final() -> bool:
            async with runtime.sessionmaker() as session:
                progress = await broadcast_service.progress(session, broadcast)
            last["progress"] = progress
            return progress.final

        finished = await wait_until(final, within=within, interval=1.0)
        elapsed = time.perf_counter() - started
    finally:
        await runtime.stop()
    progress = last["progress"]
    return BroadcastResult(
        units=units,
        recipients=progress.recipients,
        messages=progress.messages,
        create_seconds=created,
        seconds=elapsed,
        finished=finished,
        by_status={k: v for k, v in progress.by_status.items() if v},
    )
