"""``pm status``: each service's readiness, consumer lag, outbox backlog and dead letters on one screen.

Read over HTTP from what every service serves: ``/readyz`` (no token), ``/ops/consumers`` (an operator's token,
as ``pm dead-letters`` mints one) and ``/metrics`` (the outbox, the dead letters and the timers, as Prometheus
reads them). The services are asked at once, each with a short timeout: one that hangs does not hold up the rest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from rich.table import Table

GAUGES = ("pm_outbox_backlog", "pm_outbox_oldest_age_seconds", "pm_dead_letters_open", "pm_timers_overdue")


@dataclass
class ServiceStatus:
    service: str
    url: str
    reachable: bool = False
    ready: bool = False
    failed_checks: list[str] = field(default_factory=list)
    consumers: list[dict[str, Any]] = field(default_factory=list)
    gauges: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """What could not be read (an answer other than expected), in words."""

    @property
    def healthy(self) -> bool:
        return self.reachable and self.ready and not self.problems


async def read_status(service: str, url: str, headers: dict[str, str], timeout: float) -> ServiceStatus:  # noqa: ASYNC109
    status = ServiceStatus(service, url)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        try:
            readyz, consumers, metrics = await asyncio.gather(
                client.get("/readyz"), client.get("/ops/consumers", headers=headers), client.get("/metrics")
            )
        except httpx.HTTPError as exc:
            status.problems.append(f"unreachable: {type(exc).__name__}")
            return status
    status.reachable = True
    status.ready = readyz.status_code == 200
    try:
        checks = readyz.json().get("checks", {})
    except ValueError:
        checks = {}
    status.failed_checks = sorted(name for name, ok in checks.items() if not ok)
    if consumers.status_code == 200:
        status.consumers = list(consumers.json())
    else:
        status.problems.append(f"/ops/consumers answered {consumers.status_code}")
    if metrics.status_code == 200:
        for family in text_string_to_metric_families(metrics.text):
            for sample in family.samples:
                if sample.name in GAUGES and not sample.labels:
                    status.gauges[sample.name] = sample.value
    else:
        status.problems.append(f"/metrics answered {metrics.status_code}")
    return status


async def read_all(urls: dict[str, str], headers: dict[str, str], timeout: float) -> list[ServiceStatus]:  # noqa: ASYNC109
    return list(await asyncio.gather(*(read_status(name, url, headers, timeout) for name, url in urls.items())))


def _count(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 1:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def services_table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="services", title_justify="left")
    for column in ("service", "ready", "pending", "ack pending", "redelivered", "outbox", "oldest", "dead letters"):
        table.add_column(column, justify="left" if column in ("service", "ready") else "right")
    for status in statuses:
        if not status.reachable:
            table.add_row(status.service, "[red]unreachable[/]", *["?"] * 6)
            continue
        ready = "[green]ready[/]" if status.ready else f"[red]not ready[/] ({', '.join(status.failed_checks)})"
        lags = [row for row in status.consumers if row.get("error") is None]
        totals = [sum(int(row.get(key) or 0) for row in lags) for key in ("pending", "ack_pending", "redelivered")]
        gauges = status.gauges
        table.add_row(
            status.service,
            ready,
            *(str(total) if lags or not status.consumers else "?" for total in totals),
            _count(gauges.get("pm_outbox_backlog")),
            _age(gauges.get("pm_outbox_oldest_age_seconds")),
            _count(gauges.get("pm_dead_letters_open")),
        )
    return table


def lagging_table(statuses: list[ServiceStatus]) -> Table | None:
    """The durables that are behind or whose info could not be read (the others need no line)."""
    table = Table(title="consumers behind", title_justify="left")
    for column in ("service", "durable", "stream", "pending", "ack pending", "redelivered", "error"):
        table.add_column(column, justify="right" if column in ("pending", "ack pending", "redelivered") else "left")
    rows = 0
    for status in statuses:
        for row in status.consumers:
            counts = [row.get(key) for key in ("pending", "ack_pending", "redelivered")]
            if row.get("error") is None and not any(counts):
                continue
            rows += 1
            table.add_row(
                status.service,
                str(row.get("durable", "")),
                str(row.get("stream", "")),
                *("?" if count is None else str(count) for count in counts),
                str(row.get("error") or ""),
            )
    return table if rows else None
