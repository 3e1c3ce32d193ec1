"""Latency from an intake POST to the work-order event, with intake and dispatch as real processes.

Both services run as ``python -m <service> serve`` (after ``migrate`` and ``seed``) against their own
databases; a fixed rate of POST /requests goes to intake; two core NATS subscriptions observe the
work-order events: all of them (``dispatch.workorder.created.v1.>``) and a department's view
(``dispatch.workorder.*.v1.harbour.engineering``). Events are matched to requests by ``data.request_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from nats.aio.msg import Msg

from pm_platform import bus
from pm_platform.auth import mint_token
from pm_platform.natsserver import free_port
from pm_platform.settings import REPO_ROOT, load_settings
from tests.bench.common import percentile

SERVICES = ("intake", "dispatch")
ALL_WORK_ORDERS = "dispatch.workorder.created.v1.>"
ENGINEERING = "dispatch.workorder.*.v1.harbour.engineering"
REQUEST_BODY: dict[str, Any] = {
    "site": "harbour",
    "kind": "repair",
    "category": "water",
    "description": "bench",
    "unit_id": "harbour-A-0101",
    "in_unit": True,
    "reporter": {"name": "Bench", "phone": "13800000001"},
}


@dataclass
class LatencyResult:
    rate: float
    seconds: float
    sent: int = 0
    created: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    # milliseconds, one entry per request that got its answer / event
    post_ms: list[float] = field(default_factory=list)
    workorder_ms: list[float] = field(default_factory=list)
    engineering_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        def stats(values: list[float]) -> dict[str, Any]:
            return {
                "count": len(values),
                "p50_ms": percentile(values, 50),
                "p99_ms": percentile(values, 99),
                "max_ms": max(values) if values else None,
            }

        return {
            "rate_per_s": self.rate,
            "seconds": self.seconds,
            "sent": self.sent,
            "created": self.created,
            "errors": self.errors,
            "post_to_201": stats(self.post_ms),
            "post_to_workorder": stats(self.workorder_ms),
            "post_to_engineering_subscription": stats(self.engineering_ms),
        }


class ServiceFailed(RuntimeError):
    pass


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _run(env: dict[str, str], log_dir: Path, service: str, *args: str) -> None:
    log = log_dir / f"{service}-{args[0]}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", service, *args, env=env, cwd=REPO_ROOT, stdout=sink, stderr=asyncio.subprocess.STDOUT
        )
        code = await process.wait()
    if code != 0:
        raise ServiceFailed(f"`python -m {service} {' '.join(args)}` exited with {code}:\n{_tail(log)}")


async def _wait_ready(
    client: httpx.AsyncClient, ports: dict[str, int], processes: dict[str, Any], log_dir: Path, within: float = 90.0
) -> None:
    deadline = time.monotonic() + within
    pending = set(ports)
    while pending:
        for service in list(pending):
            if processes[service].returncode is not None:
                raise ServiceFailed(
                    f"{service} exited with {processes[service].returncode}:\n{_tail(log_dir / f'{service}-serve.log')}"
                )
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(f"http://127.0.0.1:{ports[service]}/readyz", timeout=2)
                if response.status_code == 200:
                    pending.discard(service)
        if pending and time.monotonic() > deadline:
            raise ServiceFailed(f"not ready within {within:.0f}s: {', '.join(sorted(pending))}; logs in {log_dir}")
        await asyncio.sleep(0.2)


async def _stop(processes: dict[str, Any]) -> None:
    for process in processes.values():
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
    for process in processes.values():
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def post_to_workorder_latency(
    nats_url: str, database_url: str, work_dir: Path, rate: float, seconds: float, drain_seconds: float = 15.0
) -> LatencyResult:
    """``database_url`` may contain ``{service}``; each service then gets its own database."""
    log_dir = work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    env.update({"PM_VAR_DIR": str(work_dir / "var"), "PM_NATS_URL": nats_url, "PM_DATABASE_URL": database_url})
    env.setdefault("PM_DEV_MODE", "1")  # the benchmark runs on the development defaults, like `make run`
    ports = {service: free_port() for service in SERVICES}

    nc = await bus.connect(nats_url, "bench-latency")
    processes: dict[str, Any] = {}
    result = LatencyResult(rate=rate, seconds=seconds)
    try:
        await bus.provision(nc, bus.load_topology(REPO_ROOT / "deploy"))
        await asyncio.gather(*(_run(env, log_dir, service, "migrate") for service in SERVICES))
        await asyncio.gather(*(_run(env, log_dir, service, "seed") for service in SERVICES))
        for service in SERVICES:
            sink = (log_dir / f"{service}-serve.log").open("wb")
            processes[service] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                service,
                "serve",
                "--port",
                str(ports[service]),
                env=env,
                cwd=REPO_ROOT,
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
            )
            sink.close()

        arrivals: dict[str, dict[str, float]] = {ALL_WORK_ORDERS: {}, ENGINEERING: {}}

        def observer(filter_subject: str) -> Any:
            seen = arrivals[filter_subject]

            async def on_message(message: Msg) -> None:
                now = time.perf_counter()
                request_id = json.loads(message.data)["data"]["request_id"]
                seen.setdefault(request_id, now)

            return on_message

        for filter_subject in arrivals:
            await nc.subscribe(filter_subject, cb=observer(filter_subject))
        await nc.flush()

        token = mint_token(load_settings("bench"), "bench", ["agent"], ["harbour"])
        headers = {"Authorization": f"Bearer {token}"}
        sent_at: dict[str, float] = {}
        url = f"http://127.0.0.1:{ports['intake']}/requests"
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            await _wait_ready(client, ports, processes, log_dir)

            async def post_one() -> None:
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=REQUEST_BODY, headers=headers)
                except httpx.HTTPError as exc:
                    key = type(exc).__name__
                    result.errors[key] = result.errors.get(key, 0) + 1
                    return
                answered = time.perf_counter()
                if response.status_code != 201:
                    key = f"HTTP {response.status_code}"
                    result.errors[key] = result.errors.get(key, 0) + 1
                    return
                sent_at[response.json()["id"]] = started
                result.post_ms.append((answered - started) * 1000)

            # Open loop: request i starts at t0 + i/rate whether or not earlier ones have been answered.
            total = max(1, round(rate * seconds))
            tasks = []
            t0 = time.perf_counter()
            for i in range(total):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(post_one()))
            await asyncio.gather(*tasks)
            result.sent = total
            result.created = len(sent_at)

        def complete() -> bool:
            return all(set(sent_at) <= set(seen) for seen in arrivals.values())

        for _ in range(max(1, round(drain_seconds / 0.1))):
            if complete():
                break
            await asyncio.sleep(0.1)

        for request_id, started in sent_at.items():
            if request_id in arrivals[ALL_WORK_ORDERS]:
                result.workorder_ms.append((arrivals[ALL_WORK_ORDERS][request_id] - started) * 1000)
            if request_id in arrivals[ENGINEERING]:
                result.engineering_ms.append((arrivals[ENGINEERING][request_id] - started) * 1000)
        return result
    finally:
        await _stop(processes)
        await nc.close()
