"""``GET /live``: server-sent events for the signed-in person's sites (see the package's docstring)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.account import service as accounts
from console.config import ConsoleSettings
from console.live.hub import LiveHub, LiveSubscription
from console.live.topics import Listener, LiveRefused, subjects_for
from console.web import SESSION_COOKIE

router = APIRouter()
log = logging.getLogger(__name__)

# How often the stream wakes to notice a lost NATS connection or an overflow.
TICK_SECONDS = 1.0


@router.get("/live")
async def live(
    request: Request,
    topic: Annotated[list[str], Query(max_length=32)],
    site: Annotated[list[str] | None, Query(max_length=64)] = None,
) -> Response:
    # Not the pages' SignedInPage: its database session would stay open as long as the stream does.
    cookie = request.cookies.get(SESSION_COOKIE)
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        found = await accounts.current(session, cookie)
    if found is None:
        return PlainTextResponse("sign in first", status_code=401)
    staff_session, account = found
    listener = Listener(roles=list(account.roles), sites=list(account.sites), department=account.department)
    try:
        subjects = subjects_for(listener, topic[:16], (site or [])[:16])
    except LiveRefused as exc:
        return PlainTextResponse(exc.reason, status_code=exc.status)
    hub: LiveHub = request.app.state.live
    try:
        subscription = await hub.subscribe(subjects)
    except Exception as exc:  # NATS down or refusing: the page works, without live updates
        log.warning("live: cannot subscribe (%s: %s)", type(exc).__name__, exc)
        return PlainTextResponse("live updates are unavailable", status_code=503, headers={"Retry-After": "5"})
    expires = staff_session.expires_at.replace(tzinfo=staff_session.expires_at.tzinfo or UTC)
    console: ConsoleSettings = request.app.state.console
    return StreamingResponse(
        _stream(hub, subscription, maker, cookie or "", expires, console.live_heartbeat_seconds),
        media_type="text/event-stream",
        # No proxy buffering and no caching: each event must reach the browser at once.
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def sse(event: str, data: dict[str, str]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(
    hub: LiveHub,
    live: LiveSubscription,
    maker: async_sessionmaker[AsyncSession],
    cookie: str,
    expires: datetime,
    heartbeat_seconds: float,
) -> AsyncIterator[str]:
    """``ready`` once subscribed, then each event under its topic's name, and a comment as heartbeat. Ends
    (and the browser reconnects, reloading) when NATS reconnected, the queue overflowed or the session ended.
    A browser that goes away cancels it (Starlette's StreamingResponse listens for the disconnect); the
    consumers go with it either way."""
    try:
        yield "retry: 2000\n\n" + sse("ready", {})
        last_sent = last_checked = time.monotonic()
        while True:
            try:
                event = await asyncio.wait_for(live.events.get(), timeout=TICK_SECONDS)
            except TimeoutError:
                event = None
            if event is not None:
                yield sse(event.topic, event.data)
                last_sent = time.monotonic()
                continue
            if hub.reconnected_since(live) or live.overflowed:
                return
            now = time.monotonic()
            if now - last_checked >= heartbeat_seconds:
                last_checked = now
                if datetime.now(UTC) >= expires or not await _still_signed_in(maker, cookie):
                    return
            if now - last_sent >= heartbeat_seconds:
                yield ": heartbeat\n\n"
                last_sent = now
    finally:
        await live.close()


async def _still_signed_in(maker: async_sessionmaker[AsyncSession], cookie: str) -> bool:
    async with maker() as session:
        return await accounts.current(session, cookie) is not None
