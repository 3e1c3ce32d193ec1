"""Open-loop load on the lifecycle's front door, with the whole stack as ``make run`` starts it.

nats-server (with its users and permissions) and the five services run as processes on their own databases
(SQLite files, or PostgreSQL databases), migrated and seeded with the demo group. A client in this process
sends ``POST /requests`` at a fixed rate (request i leaves at t0 + i/rate, answered or not: an open loop);
the engineering department of the site follows its work orders as a department does (``pm watch``: its
read-only NATS user, an ordered consumer on its subject), and each work order is matched to its request.

Per rate: what was achieved, POST p50/p99, POST -> the department sees the work order p50/p99, the answers
that were not 201 (503 with Retry-After is shedding), the consumers' backlog when the sending stops and
after the drain, and each service's peak resident memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from nats.aio.msg import Msg

from pm_platform import bus, natsauth
from pm_platform.auth import mint_token
from pm_platform.devstack import SERVICES, prepare, secure_nats, start_services, stop_all, wait_ready
from pm_platform.natsserver import NatsServer, free_port
from pm_platform.settings import REPO_ROOT, Settings
from tests.bench.common import percentile

REQUEST_BODY: dict[str, Any] = {
    "site": "harbour",
    "kind": "repair",
    "category": "water",
    "description": "bench",
    "unit_id": "harbour-A-0101",
    "in_unit": True,
    "reporter": {"name": "Bench", "phone": "13800000001"},
}
SITE, DEPARTMENT = "harbour", "engineering"


@dataclass
class RateResult:
    offered: float
    seconds: float
    sent: int = 0
    created: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    shed_with_retry_after: int = 0
    post_ms: list[float] = field(default_factory=list)  # the 201s
    shed_ms: list[float] = field(default_factory=list)  # the 503s
    department_ms: list[float] = field(default_factory=list)
    send_seconds: float = 0.0
    backlog_at_end: int = 0
    backlog_after_drain: int = 0
    drain_seconds: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)  # each service, sending and draining
    client_cpu_seconds: float = 0.0

    @property
    def achieved(self) -> float:
        """201s per second of sending."""
        return self.created / self.send_seconds if self.send_seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "offered_per_s": self.offered,
            "achieved_per_s": round(self.achieved, 1),
            "seconds": self.seconds,
            "sent": self.sent,
            "created": self.created,
            "answers": self.answers,
            "shed": sum(count for answer, count in self.answers.items() if answer == "503"),
            "shed_with_retry_after": self.shed_with_retry_after,
            "shed_p99_ms": percentile(self.shed_ms, 99),
            "post_p50_ms": percentile(self.post_ms, 50),
            "post_p99_ms": percentile(self.post_ms, 99),
            "department_count": len(self.department_ms),
            "department_p50_ms": percentile(self.department_ms, 50),
            "department_p99_ms": percentile(self.department_ms, 99),
            "backlog_at_end": self.backlog_at_end,
            "backlog_after_drain": self.backlog_after_drain,
            "drain_seconds": round(self.drain_seconds, 1),
            "peak_rss_mb": self.peak_rss_mb,
            "cpu_ms_per_request": self.cpu_ms_per_request,
            "client_cpu_seconds": round(self.client_cpu_seconds, 2),
        }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user and system, all threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15 of stat)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class LoadStack:
    """The stack on free ports under ``work``; ``database_url`` may hold ``{service}`` (PostgreSQL)."""

    def __init__(self, work: Path, database_url: str | None) -> None:
        self.work = work
        self.database_url = database_url
        self.ports = {service: free_port() for service in SERVICES}
        self.nats: NatsServer | None = None
        self.processes: dict[str, Any] = {}
        self.passwords: dict[str, str] = {}

    def start(self) -> None:
        var = self.work / "var"
        (var / "nats").mkdir(parents=True, exist_ok=True)
        config, self.passwords = secure_nats(var, REPO_ROOT / "deploy", REPO_ROOT / "contracts")
        self.nats = NatsServer(self.work / "nats", config_file=config, env=self.passwords).start()
        env = dict(os.environ)
        for key in ("PM_NATS_USER", "PM_NATS_PASSWORD", "PM_DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            env.pop(key, None)
        env.update({"PM_VAR_DIR": str(var), "PM_NATS_URL": self.nats.url, "PM_DEV_MODE": "1"})
        if self.database_url:
            env["PM_DATABASE_URL"] = self.database_url
        prepare(env, self.ports, passwords=self.passwords)
        self.processes = start_services(env, self.work / "logs", self.ports, passwords=self.passwords)
        ready = wait_ready(self.ports, timeout=90)
        if not all(ready.values()):
            raise RuntimeError(f"not ready: {ready}; logs in {self.work / 'logs'}")

    def stop(self) -> None:
        stop_all(self.processes)
        if self.nats is not None:
            self.nats.stop()

    def password(self, user: str) -> str:
        return self.passwords[natsauth.password_variable(user)]

    def cpu(self) -> dict[str, float]:
        return {service: cpu_seconds(process.pid) for service, process in self.processes.items()}

    def peak_rss(self) -> dict[str, float]:
        return {service: round(peak_rss_mb(process.pid), 1) for service, process in self.processes.items()}

    async def backlog(self, nc: Any) -> int:
        """Events the services' durable consumers have not yet acknowledged (pending and in flight)."""
        js = nc.jetstream()
        total = 0
        for definition in bus.load_topology(REPO_ROOT / "deploy").consumers:
            info = await js.consumer_info(definition.stream, definition.durable)
            total += (info.num_pending or 0) + (info.num_ack_pending or 0)
        return total


async def open_loop(
    stack: LoadStack, rate: float, seconds: float, drain_within: float = 30.0, settle: float = 2.0
) -> RateResult:
    """``rate`` POSTs per second for ``seconds``, then wait (at most ``drain_within``) for the backlog to clear."""
    assert stack.nats is not None
    result = RateResult(offered=rate, seconds=seconds)
    department = natsauth.department_user(SITE, DEPARTMENT)
    watcher = await bus.connect(stack.nats.url, "bench-department", department, stack.password(department))
    admin = await bus.connect(stack.nats.url, "bench-admin", natsauth.PROVISIONER, stack.password(natsauth.PROVISIONER))
    seen: dict[str, float] = {}

    async def on_work_order(message: Msg) -> None:
        arrived = time.perf_counter()
        event = json.loads(message.data)
        if event.get("type", "").startswith("dispatch.workorder.created."):
            seen.setdefault(event["data"]["request_id"], arrived)

    subscription = await bus.watch_workorders(watcher, SITE, DEPARTMENT, False)
    reader = asyncio.create_task(_read(subscription, on_work_order))
    token = mint_token(Settings(service="bench", dev_mode=True), "bench", ["agent"], [SITE])
    body = json.dumps(REQUEST_BODY).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"http://127.0.0.1:{stack.ports['intake']}/requests"
    sent_at: dict[str, float] = {}
    cpu_started = resource.getrusage(resource.RUSAGE_SELF)
    services_cpu = stack.cpu()
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as client:

            async def post_one() -> None:
                started = time.perf_counter()
                try:
                    async with client.post(url, data=body, headers=headers) as response:
                        answer = await response.read()
                        answered = time.perf_counter()
                        status = response.status
                        retry_after = "Retry-After" in response.headers
                except (aiohttp.ClientError, TimeoutError) as exc:
                    key = type(exc).__name__
                    result.answers[key] = result.answers.get(key, 0) + 1
                    return
                result.answers[str(status)] = result.answers.get(str(status), 0) + 1
                if status == 201:
                    sent_at[json.loads(answer)["id"]] = started
                    result.post_ms.append((answered - started) * 1000)
                elif status == 503:
                    result.shed_ms.append((answered - started) * 1000)
                    result.shed_with_retry_after += retry_after

            total = max(1, round(rate * seconds))
            tasks = []
            t0 = time.perf_counter()
            for i in range(total):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post_one()))
            await asyncio.gather(*tasks)
            result.send_seconds = time.perf_counter() - t0
        result.sent = total
        result.created = len(sent_at)
        result.backlog_at_end = await stack.backlog(admin)
        drained = time.perf_counter()
        deadline = drained + drain_within
        while time.perf_counter() < deadline:
            if set(sent_at) <= set(seen) and await stack.backlog(admin) == 0:
                break
            await asyncio.sleep(0.1)
        result.drain_seconds = time.perf_counter() - drained
        result.backlog_after_drain = await stack.backlog(admin)
        result.department_ms = [(seen[rid] - start) * 1000 for rid, start in sent_at.items() if rid in seen]
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        result.client_cpu_seconds = (cpu.ru_utime + cpu.ru_stime) - (cpu_started.ru_utime + cpu_started.ru_stime)
        result.peak_rss_mb = stack.peak_rss()
        spent = stack.cpu()
        result.cpu_ms_per_request = {
            service: round((spent[service] - services_cpu[service]) * 1000 / max(1, result.created), 2)
            for service in spent
        }
        await asyncio.sleep(settle)  # the next rate starts on a quiet stack
        return result
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await watcher.close()
        await admin.close()


async def _read(subscription: Any, on_message: Any) -> None:
    async for message in subscription.messages:
        await on_message(message)
