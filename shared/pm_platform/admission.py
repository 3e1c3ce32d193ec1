"""Load shedding at the door: a bounded number of requests at work, a short bounded queue, and past that a quick
503 with ``Retry-After``.

Without it an overloaded service accepts every connection and lets each request wait on the database pool
or the SQLite write lock: tens of seconds of queueing, then pool timeouts and dropped connections. With it a
request either starts within ``http_queue_timeout_seconds`` or is told at once to come back, and the requests
that are admitted keep their latency. Probes and scrapes are never shed (an orchestrator must see a busy
service as alive and ready).

Hand-written (about forty lines) because Starlette has no concurrency limit and the rate limiters on PyPI
(slowapi, limits) count requests per client per window, which is not what protects a database.
"""

from __future__ import annotations

import asyncio
import math

from starlette.types import ASGIApp, Receive, Scope, Send

from pm_platform.problems import problem_response

NEVER_SHED = frozenset({"/healthz", "/readyz", "/metrics"})


class Admission:
    """ASGI middleware: at most ``max_in_flight`` requests at work and ``max_queued`` waiting (first come,
    first served) for at most ``queue_timeout`` seconds; any other request is answered 503 at once."""

    def __init__(self, app: ASGIApp, *, max_in_flight: int, max_queued: int, queue_timeout: float) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_queued = max_queued
        self.queue_timeout = queue_timeout
        self.retry_after = str(max(1, math.ceil(queue_timeout)))
        self.waiting: asyncio.Semaphore | None = None  # the queue's places; created on the server's loop
        self.slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in NEVER_SHED:
            await self.app(scope, receive, send)
            return
        if self.slots is None or self.waiting is None:
            self.slots = asyncio.Semaphore(self.max_in_flight)
            self.waiting = asyncio.Semaphore(self.max_queued)
        if self.slots.locked():  # every slot taken: queue, if there is room
            if self.waiting.locked():
                await self._refuse(scope, receive, send, "the queue is full")
                return
            async with self.waiting:
                try:
                    await asyncio.wait_for(self.slots.acquire(), self.queue_timeout)
                except TimeoutError:
                    await self._refuse(scope, receive, send, f"no room within {self.queue_timeout:g} s")
                    return
        else:
            await self.slots.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        response = problem_response(
            503,
            "Service Unavailable",
            f"the service is at capacity ({why}); retry after {self.retry_after} s",
            scope["path"].replace("\x00", ""),
            headers={"Retry-After": self.retry_after},
        )
        await response(scope, receive, send)
