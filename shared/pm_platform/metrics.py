"""Prometheus metrics every service serves at ``/metrics`` (text format, ``prometheus_client``).

- HTTP: requests by method, route template and status, and their duration (a middleware; the route template,
  never the raw path, so ids in paths do not become labels).
- Consumer lag per durable: pending, ack pending and redelivered, read from JetStream at scrape time with the
  service's own NATS connection (``pm_platform.ops.consumer_lag``, which ``/ops/consumers`` also serves).
- The outbox backlog and the age of its oldest unpublished row, open dead letters, overdue timers: read from the
  service's own database at scrape time.
- Readiness: what ``/readyz`` answers, overall and per check, so an alert can say which check fails.
- A service may add its own gauges (intake's open requests per site) with ``add_source``.

Each app has its own registry (not the library's global one): tests build several apps in one process.
``/metrics`` needs no token, as Prometheus scrapes without one in most setups; so its labels name routes,
durables, streams and site codes only, never a person's data.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request, Response
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pm_platform.db import READ_ONLY
from pm_platform.envelope import as_utc, utcnow
from pm_platform.ops import consumer_lag

if TYPE_CHECKING:
    from pm_platform.runtime import Runtime

# Requests no route matched (404s, a 422 for a NUL before routing) share one label: a scanner's paths must not
# grow the label set without bound.
UNMATCHED = "unmatched"

MetricsSource = Callable[["Runtime"], Awaitable[None]]
"""Called at each scrape, after the platform's gauges are read: sets a service's own gauges."""


class PlatformMetrics:
    """One app's registry and the platform's metrics in it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.http_requests = Counter(
            "pm_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.http_duration = Histogram(
            "pm_http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"], registry=registry
        )
        durable = ["stream", "durable"]
        self.consumer_pending = Gauge(
            "pm_consumer_pending", "Messages in the stream not yet delivered to the durable", durable, registry=registry
        )
        self.consumer_ack_pending = Gauge(
            "pm_consumer_ack_pending",
            "Messages delivered to the durable, not yet acknowledged",
            durable,
            registry=registry,
        )
        self.consumer_redelivered = Gauge(
            "pm_consumer_redelivered",
            "Messages delivered more than once, not yet acknowledged",
            durable,
            registry=registry,
        )
        self.consumer_info_up = Gauge(
            "pm_consumer_info_up",
            "1 when the durable's JetStream info could be read at this scrape",
            durable,
            registry=registry,
        )
        self.outbox_backlog = Gauge("pm_outbox_backlog", "Outbox rows not yet published", registry=registry)
        self.outbox_oldest_age = Gauge(
            "pm_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when none)", registry=registry
        )
        self.dead_letters_open = Gauge(
            "pm_dead_letters_open", "Dead letters waiting for an operator", registry=registry
        )
        self.timers_overdue = Gauge("pm_timers_overdue", "Pending timers whose due time has passed", registry=registry)
        self.ready = Gauge("pm_ready", "1 when the service is ready (what /readyz answers 200 to)", registry=registry)
        self.ready_check = Gauge(
            "pm_ready_check",
            "1 when this readiness check passes (database, nats, consumers, tasks)",
            ["check"],
            registry=registry,
        )
        self.sources: list[MetricsSource] = []

    async def refresh(self, runtime: Runtime) -> None:
        """Read the gauges that are state elsewhere (JetStream, the database) as of now."""
        for gauge in (self.consumer_pending, self.consumer_ack_pending, self.consumer_redelivered):
            gauge.clear()  # a durable whose info failed has no value this scrape rather than a stale one
        for lag in await consumer_lag(runtime):
            self.consumer_info_up.labels(lag.stream, lag.durable).set(0 if lag.error else 1)
            if lag.error:
                continue
            self.consumer_pending.labels(lag.stream, lag.durable).set(lag.pending or 0)
            self.consumer_ack_pending.labels(lag.stream, lag.durable).set(lag.ack_pending or 0)
            self.consumer_redelivered.labels(lag.stream, lag.durable).set(lag.redelivered or 0)
        await self._read_tables(runtime)
        readiness = await runtime.readiness_report()
        self.ready.set(1 if readiness.ready else 0)
        for check, passed in readiness.checks.items():
            self.ready_check.labels(check).set(1 if passed else 0)
        for source in self.sources:
            await source(runtime)

    async def _read_tables(self, runtime: Runtime) -> None:
        tables = runtime.tables
        now = utcnow()
        # Counts only, and not a span per scrape (Prometheus scrapes every few seconds).
        with suppress_instrumentation():
            async with runtime.engine.connect() as connection:
                connection = await connection.execution_options(**READ_ONLY)
                outbox = tables.outbox
                backlog, oldest = (
                    await connection.execute(
                        select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
                    )
                ).one()
                dead = tables.dead_letters
                open_dead = (
                    await connection.execute(select(func.count()).select_from(dead).where(dead.c.status == "open"))
                ).scalar_one()
                timers = tables.timers
                overdue = (
                    await connection.execute(
                        select(func.count())
                        .select_from(timers)
                        .where(timers.c.status == "pending", timers.c.due_at <= now)
                    )
                ).scalar_one()
        self.outbox_backlog.set(backlog)
        self.outbox_oldest_age.set(max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0)
        self.dead_letters_open.set(open_dead)
        self.timers_overdue.set(overdue)


def of(app: FastAPI) -> PlatformMetrics:
    metrics: PlatformMetrics = app.state.metrics
    return metrics


def add_source(app: FastAPI, source: MetricsSource) -> None:
    """Register a service's own scrape-time gauges (created in ``of(app).registry``, set by ``source``)."""
    of(app).sources.append(source)


class HttpMetrics:
    """ASGI middleware: counts and times every HTTP answer by route template. Outermost, so it sees the final
    status, including the answers other middleware give (a 422 for a NUL, a 500 for an unhandled error)."""

    def __init__(self, app: ASGIApp, metrics: PlatformMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers if the app raises before starting a response
        started = time.perf_counter()

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            # FastAPI puts the matched route in the scope (the same dict is passed down and updated by routing).
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = str(scope.get("method", ""))
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_PLAIN_0_0_4: {}}}},
)
async def get_metrics(request: Request) -> Response:
    """This service's metrics in Prometheus text format. Unauthenticated, like most scrape targets: the labels
    carry routes, durables and site codes only."""
    metrics = of(request.app)
    await metrics.refresh(request.app.state.runtime)
    # The format the scraper asks for (OpenMetrics, or a newer text format); the classic text format otherwise,
    # which every Prometheus version reads.
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(metrics.registry), headers={"Content-Type": content_type})


def install(app: FastAPI) -> PlatformMetrics:
    """Give the app its registry, the ``/metrics`` route and the HTTP middleware (call after the other
    middleware, so this one is outermost)."""
    metrics = PlatformMetrics()
    app.state.metrics = metrics
    app.include_router(router)
    app.add_middleware(HttpMetrics, metrics=metrics)
    return metrics
