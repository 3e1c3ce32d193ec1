"""Helpers shared by the measurements: real envelopes, PostgreSQL databases, percentiles, preloading."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from nats.aio.client import Client

from pm_platform.envelope import Envelope, new_id
from pm_platform.settings import REPO_ROOT

INTAKE_CREATED = "intake.request.created.v1"
WORKORDER_CREATED = "dispatch.workorder.created.v1"
EXAMPLE: dict[str, Any] = json.loads(
    (REPO_ROOT / "contracts" / "examples" / f"{INTAKE_CREATED}.json").read_text(encoding="utf-8")
)
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def intake_envelope(request_id: str | None = None) -> Envelope:
    """A real ``intake.request.created.v1`` event built from the contract's example, with a fresh id."""
    request_id = request_id or new_id()
    return Envelope(
        source="pm/intake",
        type=INTAKE_CREATED,
        subject=request_id,
        dataschema=f"urn:pm:contracts:{INTAKE_CREATED}",
        site=EXAMPLE["site"],
        correlationid=request_id,
        data={**EXAMPLE, "request_id": request_id},
    )


async def publish_all(nc: Client, messages: Iterable[tuple[str, bytes, str]], in_flight: int = 500) -> int:
    """Publish ``(subject, body, msg_id)`` to JetStream with at most ``in_flight`` PubAcks outstanding (the
    context's own semaphore holds back the next publish); every PubAck must arrive."""
    js = nc.jetstream(publish_async_max_pending=in_flight)
    futures = [
        await js.publish_async(subject, body, headers={"Nats-Msg-Id": msg_id}) for subject, body, msg_id in messages
    ]
    await asyncio.wait_for(asyncio.gather(*futures), timeout=120)
    return len(futures)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


async def wait_until(check: Callable[[], Awaitable[bool]], within: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while True:
        if await check():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)


@dataclass
class Postgres:
    """Throwaway databases on the server ``admin_url`` points at (plain ``postgresql://`` URL)."""

    admin_url: str
    created: list[str] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    async def reachable(self) -> str | None:
        """None when the server answers, else why not."""
        try:
            connection = await asyncpg.connect(self.admin_url, timeout=5)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        try:
            await connection.execute("SELECT 1")
        finally:
            await connection.close()
        return None

    def name(self, label: str) -> str:
        return f"pm_bench_{self.run_id}_{label}"

    async def create(self, name: str) -> None:
        connection = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        self.created.append(name)

    async def service_databases(self, label: str, services: Sequence[str]) -> str:
        """A database per service; the URL with ``{service}`` that gives each service its own."""
        prefix = self.name(label)
        for service in services:
            await self.create(f"{prefix}_{service}")
        return self.async_url(prefix + "_{service}")

    def async_url(self, name: str) -> str:
        """The SQLAlchemy asyncpg URL of database ``name`` (may contain ``{service}``)."""
        base = self.admin_url.split("?", 1)[0].rsplit("/", 1)[0]
        return (
            base.replace("postgresql://", "postgresql+asyncpg://", 1).replace("postgres://", "postgresql+asyncpg://", 1)
            + f"/{name}"
        )

    async def drop_all(self) -> None:
        if not self.created:
            return
        connection = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            for name in self.created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
        self.created.clear()
