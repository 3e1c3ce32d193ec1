"""Decoration gauges on ``/metrics``: permits waiting for their review and reviews that missed the site's limit,
per site, read from intake's own database at scrape time."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import Gauge
from sqlalchemy import select

from intake.decoration.models import IN_REVIEW, Permit
from intake.organization.models import Site
from intake.request.metrics import per_site
from pm_platform import metrics
from pm_platform.db import READ_ONLY
from pm_platform.runtime import Runtime


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
                in_review = await per_site(connection, Permit.status.in_([s.value for s in IN_REVIEW]), Permit.site)
                missed = await per_site(connection, Permit.review_breached.is_(True), Permit.site)
        for site in sites:
            waiting.labels(site).set(in_review.get(site, 0))
            breached.labels(site).set(missed.get(site, 0))

    metrics.add_source(app, refresh)
