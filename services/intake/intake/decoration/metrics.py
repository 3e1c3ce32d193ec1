"""Decoration gauges on ``/metrics``: permits waiting for their review and reviews that missed the site's limit,
per site, read from intake's own database at scrape time."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import Gauge
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from intake.decoration.models import IN_REVIEW, Permit
from intake.organization.models import Site
from pm_platform import metrics
from pm_platform.db import READ_ONLY
from pm_platform.runtime import Runtime


async def _per_site(connection: AsyncConnection, condition: ColumnElement[bool]) -> dict[str, int]:
    rows = await connection.execute(select(Permit.site, func.count()).where(condition).group_by(Permit.site))
    return {site: count for site, count in rows.tuples()}


def install(app: FastAPI) -> None:
    registry = metrics.of(app).registry
    waiting = Gauge(
        "pm_intake_decoration_awaiting_review",
        "Decoration permits waiting for their review",
        ["site"],
        registry=registry,
    )
    breached = Gauge(
        "pm_intake_decoration_review_breached",
        "Decoration permits whose review missed the site's limit, all time",
        ["site"],
        registry=registry,
    )

    async def refresh(runtime: Runtime) -> None:
        with suppress_instrumentation():
            async with runtime.engine.connect() as connection:
                connection = await connection.execution_options(**READ_ONLY)
                sites = (await connection.execute(select(Site.code))).scalars().all()
                in_review = await _per_site(connection, Permit.status.in_([s.value for s in IN_REVIEW]))
                missed = await _per_site(connection, Permit.review_breached.is_(True))
        for site in sites:
            waiting.labels(site).set(in_review.get(site, 0))
            breached.labels(site).set(missed.get(site, 0))

    metrics.add_source(app, refresh)
