"""Intake's business gauges on ``/metrics``: open requests and breached time limits per site, read from intake's
own database at scrape time. Labelled by site code only (``/metrics`` is unauthenticated)."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import Gauge
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute

from intake.organization.models import Site
from intake.request.models import OPEN, Request
from pm_platform import metrics
from pm_platform.db import READ_ONLY
from pm_platform.runtime import Runtime


async def per_site(
    connection: AsyncConnection, condition: ColumnElement[bool], site: InstrumentedAttribute[str] = Request.site
) -> dict[str, int]:
    """How many rows (requests, unless ``site`` is another table's site column) meet ``condition``, per site."""
    rows = await connection.execute(select(site, func.count()).where(condition).group_by(site))
    return {code: count for code, count in rows.tuples()}


def install(app: FastAPI) -> None:
    registry = metrics.of(app).registry
    open_requests = Gauge(
        "pm_intake_open_requests", "Requests not yet resolved or cancelled", ["site"], registry=registry
    )
    # Every request that ever missed the limit: it only grows, so increase() over a window is the breach rate.
    breached = Gauge(
        "pm_intake_breached_requests",
        "Requests that missed a time limit (limit: ack or reply), all time",
        ["site", "limit"],
        registry=registry,
    )

    async def refresh(runtime: Runtime) -> None:
        with suppress_instrumentation():
            async with runtime.engine.connect() as connection:
                connection = await connection.execution_options(**READ_ONLY)
                sites = (await connection.execute(select(Site.code))).scalars().all()
                is_open = Request.status.in_([status.value for status in OPEN])
                opened = await per_site(connection, is_open)
                missed = {
                    "ack": await per_site(connection, Request.ack_breached.is_(True)),
                    "reply": await per_site(connection, Request.reply_breached.is_(True)),
                }
        # Every site has a value, 0 included: a site without open requests is not a missing series.
        for site in sites:
            open_requests.labels(site).set(opened.get(site, 0))
            for limit, counts in missed.items():
                breached.labels(site, limit).set(counts.get(site, 0))

    metrics.add_source(app, refresh)
